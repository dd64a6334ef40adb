"""Popularity: the fallback for empty profiles and a small prior for the hybrid."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recoapi.engine.models._arrays import Arrays, load_npz, save_npz, support_counts

__all__ = ["PopularityModel"]


class PopularityModel:
    """Scores every item by ``log1p(#profiles with positive signal)``, scaled to [0, 1].

    The log keeps the long tail in play when the prior is blended with other scores; the
    count of *positive* signals means a widely disliked film is not "popular".
    """

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=np.float32)
        self.n_items = int(self.scores.size)

    @classmethod
    def fit(cls, weights: sp.csr_matrix) -> PopularityModel:
        positive = weights.copy()
        positive.data = (positive.data > 0).astype(np.float32)
        counts = support_counts(positive, weights.shape[1]).astype(np.float64)
        scores = np.log1p(counts)
        top = scores.max() if scores.size else 0.0
        return cls(scores / top if top > 0 else scores)

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.scores, (profiles.shape[0], 1))

    def similar_items(self, item: int) -> np.ndarray:
        return self.scores.copy()

    def to_arrays(self) -> Arrays:
        return {"scores": self.scores}

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> PopularityModel:
        return cls(arrays["scores"])

    def save(self, path: str) -> None:
        save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str) -> PopularityModel:
        return cls.from_arrays(load_npz(path))
