"""The default model: EASE on supported items + content cosine + a popularity prior.

Scores add up on one scale: EASE's reconstruction of the profile, plus ``content_weight``
times the signal-weighted mean cosine between each item and the profile's items, plus
``popularity_weight`` times the [0, 1] popularity prior. Items outside EASE's dense matrix
(too few ratings, or no rating at all) are reached only through the last two terms, so they
surface when the profile's content points at them; a profile without any signal gets the
popularity ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.models._arrays import (
    Arrays,
    from_json_array,
    json_array,
    load_npz,
    save_npz,
    strip_prefix,
    with_prefix,
)
from recoapi.engine.models.content import ContentModel
from recoapi.engine.models.ease import EaseModel
from recoapi.engine.models.popularity import PopularityModel

__all__ = ["HybridConfig", "HybridModel"]


@dataclass(frozen=True)
class HybridConfig:
    content_weight: float = 0.05
    """Weight of the mean profile-item content cosine in user/session scores."""
    popularity_weight: float = 0.0
    """Weight of the [0, 1] popularity prior in user/session scores."""
    similar_content_weight: float = 0.5
    """Weight of content cosine in item-to-items (collaborative part scaled to max 1)."""
    similar_popularity_weight: float = 0.05
    """Tie-breaker for item-to-items, mostly for items known only by their properties."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridConfig:
        return cls(**data)


class HybridModel:
    """Implements :class:`recoapi.engine.base.Recommender`."""

    def __init__(
        self,
        ease: EaseModel,
        content: ContentModel,
        popularity: PopularityModel,
        config: HybridConfig,
    ) -> None:
        self.ease = ease
        self.content = content
        self.popularity = popularity
        self.config = config
        self.n_items = popularity.n_items

    @classmethod
    def fit(
        cls,
        signals: sp.csr_matrix,
        content: ContentModel,
        ease: EaseModel,
        config: HybridConfig | None = None,
    ) -> HybridModel:
        """Assemble from fitted parts (see ``recoapi.engine.training.train``)."""
        return cls(ease, content, PopularityModel.fit(signals), config or HybridConfig())

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        profiles = sp.csr_matrix(profiles, dtype=np.float32)
        scores = self.ease.score_profiles(profiles)
        if self.config.content_weight:
            scores += self.config.content_weight * self.content.score_profiles(profiles)
        if self.config.popularity_weight:
            scores += self.config.popularity_weight * self.popularity.scores[None, :]
        empty = np.diff(profiles.indptr) == 0
        if empty.any():
            scores[empty] = self.popularity.scores
        return scores

    def similar_items(self, item: int) -> np.ndarray:
        collaborative = self.ease.similar_items(item)
        top = float(collaborative.max())
        if top > 0:
            collaborative /= top
        cfg = self.config
        if cfg.similar_content_weight:
            collaborative += cfg.similar_content_weight * self.content.similar_items(item)
        if cfg.similar_popularity_weight:
            collaborative += cfg.similar_popularity_weight * self.popularity.scores
        return collaborative

    def to_arrays(self) -> Arrays:
        out: Arrays = {"config": json_array(self.config.to_dict())}
        out.update(with_prefix("ease/", self.ease.to_arrays()))
        out.update(with_prefix("content/", self.content.to_arrays()))
        out.update(with_prefix("popularity/", self.popularity.to_arrays()))
        return out

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> HybridModel:
        return cls(
            EaseModel.from_arrays(strip_prefix("ease/", arrays)),
            ContentModel.from_arrays(strip_prefix("content/", arrays)),
            PopularityModel.from_arrays(strip_prefix("popularity/", arrays)),
            HybridConfig.from_dict(from_json_array(arrays["config"])),
        )

    def save(self, path: str) -> None:
        save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str) -> HybridModel:
        return cls.from_arrays(load_npz(path))
