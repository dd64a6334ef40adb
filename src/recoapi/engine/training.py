"""``train(data, options)``: one frozen snapshot in, one ready-to-serve model out.

The default model (``HybridModel``): ratings and interactions become graded signal weights
(``profiles``); item properties become TF-IDF token vectors (``ContentModel``); EASE is
solved on the items with >= 3 signals with the content cosine added to its Gram matrix
(CEASE); the other items are bridged to EASE through their content neighbours; the same
Gram matrix gives each item its co-rating neighbours for item-to-items; the popularity
prior answers empty profiles. On ml-latest-small: ~5-10 s on 2 cores, ~650 MB
peak memory, a 105 MB model. Runs off the request path (the server calls it from a
worker); nothing here touches IO.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import Recommender, TrainingData
from recoapi.engine.models.content import ContentConfig, ContentModel
from recoapi.engine.models.ease import EaseConfig, EaseModel, dense_gram, select_items
from recoapi.engine.models.hybrid import HybridConfig, HybridModel
from recoapi.engine.models.neighbors import NeighborConfig, NeighborModel
from recoapi.engine.profiles import ProfileWeighting, build_profiles

__all__ = ["TrainingOptions", "build_signals", "train"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingOptions:
    """Everything that shapes a trained model. ``to_dict``/``from_dict`` round-trip."""

    seed: int = 42
    """For randomised components; the default model is deterministic (closed form)."""
    weighting: ProfileWeighting = field(default_factory=ProfileWeighting)
    ease: EaseConfig = field(default_factory=EaseConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    neighbors: NeighborConfig = field(default_factory=NeighborConfig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "weighting": self.weighting.to_dict(),
            "ease": self.ease.to_dict(),
            "content": self.content.to_dict(),
            "hybrid": self.hybrid.to_dict(),
            "neighbors": self.neighbors.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingOptions:
        return cls(
            seed=int(data["seed"]),
            weighting=ProfileWeighting.from_dict(data["weighting"]),
            ease=EaseConfig.from_dict(data["ease"]),
            content=ContentConfig.from_dict(data["content"]),
            hybrid=HybridConfig.from_dict(data["hybrid"]),
            # Absent from options written before co-rating neighbours existed.
            neighbors=NeighborConfig.from_dict(data.get("neighbors", {})),
        )


def build_signals(data: TrainingData, weighting: ProfileWeighting | None = None) -> sp.csr_matrix:
    """The (users x items) signal-weight matrix of a snapshot, ratings in time order."""
    order = np.argsort(data.rating_time, kind="stable")
    n_int = len(data.interaction_user)
    rows = np.concatenate([data.rating_user[order], data.interaction_user]).astype(np.int64)
    items = np.concatenate([data.rating_item[order], data.interaction_item]).astype(np.int64)
    ratings = np.concatenate([data.rating_value[order], np.full(n_int, np.nan)])
    types = np.concatenate([np.full(len(order), None, dtype=object), data.interaction_type])
    return build_profiles(
        data.n_items,
        rows,
        items,
        ratings=ratings,
        interaction_types=types if n_int else None,
        n_rows=data.n_users,
        weighting=weighting,
    )


def train(
    data: TrainingData,
    options: TrainingOptions | None = None,
    progress: Progress | None = None,
) -> Recommender:
    """Train the default hybrid model; ``progress`` receives short status messages."""
    opts = options or TrainingOptions()
    report = progress or (lambda _msg: None)
    start = time.perf_counter()
    report("building profiles")
    signals = build_signals(data, opts.weighting)
    report(f"content model on {len(data.item_properties)} properties")
    content = ContentModel.fit(data.n_items, data.item_properties, opts.content)
    report("collaborative model (EASE) and co-rating neighbours")
    items = select_items(signals, opts.ease)
    gram = dense_gram(signals[:, items])
    neighbors = NeighborModel.fit(gram, items, data.n_items, opts.neighbors)
    ease = EaseModel.fit_gram(signals, items, gram, opts.ease, content.tokens)  # takes gram
    model = HybridModel.fit(signals, content, ease, opts.hybrid, neighbors)
    report(
        f"trained on {signals.nnz} signals, {ease.items.size}/{data.n_items} items dense, "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return model
