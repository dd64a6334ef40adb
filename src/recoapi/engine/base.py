"""The contract between training, serving and evaluation.

Everything here works on dense integer indices (``0..n_items-1``); the mapping from the
database's external ids to indices is the serving layer's job. Training gets one frozen
``TrainingData`` snapshot and returns a ``Recommender``; the server and ``recoapi eval``
call exactly the same methods on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recoapi.core.columns import PropertyColumn

__all__ = ["PropertyColumn", "Recommender", "TrainingData"]


@dataclass(frozen=True)
class TrainingData:
    """What a training run sees. Arrays are aligned per event; indices are dense."""

    n_users: int
    n_items: int
    rating_user: np.ndarray  # int32
    rating_item: np.ndarray  # int32
    rating_value: np.ndarray  # float32, in [1, 10]
    rating_time: np.ndarray  # float64, Unix seconds
    interaction_user: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    interaction_item: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    interaction_type: np.ndarray = field(default_factory=lambda: np.zeros(0, object))  # str
    interaction_time: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    item_properties: tuple[PropertyColumn, ...] = ()


class Recommender(Protocol):
    """A trained model. Scores are float32 arrays over all items, higher is better."""

    n_items: int

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Scores for a batch of profiles (rows: users or sessions, columns: items).

        A profile row holds the *signal weights* returned by ``profile_weights`` (not raw
        ratings). Returns a dense ``(n_rows, n_items)`` float32 array.
        """
        ...

    def similar_items(self, item: int) -> np.ndarray:
        """Similarity of every item to ``item`` (float32, ``n_items``); ``item`` itself
        may score anything, callers exclude it."""
        ...

    def save(self, path: str) -> None:
        """Write the model as one ``.npz`` (``allow_pickle=False`` readable)."""
        ...

    def with_items(self, n_items: int, columns: Sequence[PropertyColumn]) -> Recommender:
        """A model that also serves items created after training (indices ``self.n_items``
        to ``n_items - 1``) from their properties in ``columns``; ``self`` when none."""
        ...
