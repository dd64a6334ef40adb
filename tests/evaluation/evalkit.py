"""Helpers of the evaluation tests: a small seeded synthetic dataset, and the real
MovieLens folders (the tests that need them skip when they are absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recoapi.engine.base import PropertyColumn
from recoapi.evaluation.datasets import RatingsDataset, default_data_dir

RNG_SEED = 42


def synthetic_dataset(n_users: int = 60, n_items: int = 40, seed: int = RNG_SEED) -> RatingsDataset:
    """Users rate 8-20 distinct items each, ratings 1..10, distinct timestamps."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, int(rng.integers(8, 21)), replace=False)
        users.extend([u] * len(chosen))
        items.extend(chosen.tolist())
    n = len(users)
    genres = [["a"] if i % 2 else ["b", "c"] for i in range(n_items)]
    return RatingsDataset(
        name="synthetic",
        user_ids=np.array([str(u) for u in range(n_users)], dtype=object),
        item_ids=np.array([str(i) for i in range(n_items)], dtype=object),
        user=np.array(users, dtype=np.int32),
        item=np.array(items, dtype=np.int32),
        rating=rng.integers(1, 11, n).astype(np.float32),
        time=rng.permutation(n).astype(np.float64) + 1e9,
        titles=[f"item {i}" for i in range(n_items)],
        properties=(
            PropertyColumn("year", "int16", False, [1990 + i % 20 for i in range(n_items)]),
            PropertyColumn("genres", "unicode32", True, genres),
        ),
    )


def data_folder(name: str) -> Path:
    folder = default_data_dir() / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available")
    return folder
