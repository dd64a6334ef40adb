"""Content signal: TF-IDF cosine between items' property tokens.

Every property value becomes a token (``genres=Crime``); numbers are binned on quantiles
and also touch the neighbouring bins at a lower weight, so 1994 stays close to 1995. Each
property's block is L2-normalised on its own and weighted, so a long tag list does not drown
the genres. This gives items without any rating similar items and a score, which is what
lets new catalog entries be recommended before they are rated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import PropertyColumn
from recoapi.engine.models._arrays import (
    Arrays,
    csr_from_arrays,
    csr_to_arrays,
    from_json_array,
    json_array,
    load_npz,
    save_npz,
)
from recoapi.engine.models._tokens import TokenSpace

__all__ = ["ContentConfig", "ContentModel"]


@dataclass(frozen=True)
class ContentConfig:
    numeric_bins: int = 12
    """Quantile bins per numeric property."""
    neighbor_bin_weight: float = 0.5
    """Weight of the two bins next to a number's own bin."""
    min_df: int = 2
    """Tokens carried by fewer items are dropped (they cannot link two items)."""
    property_weights: dict[str, float] = field(default_factory=dict)
    """Relative weight per property name (default 1)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric_bins": self.numeric_bins,
            "neighbor_bin_weight": self.neighbor_bin_weight,
            "min_df": self.min_df,
            "property_weights": dict(self.property_weights),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContentConfig:
        return cls(**data)


def _top_weights(
    sims: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = min(k, sims.shape[1])
    if k == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(sims, top, axis=1)
    vals = np.where(vals > 1e-3, vals, 0.0)  # below the tie-breaker: no shared property
    totals = vals.sum(axis=1, keepdims=True)
    vals = np.divide(vals, totals, out=np.zeros_like(vals), where=totals > 0)
    keep = vals > 0
    return np.repeat(rows, k).reshape(-1, k)[keep], top[keep], vals[keep]


class ContentModel:
    """``tokens`` is the (items x tokens) matrix with unit-norm rows (or empty rows)."""

    def __init__(self, tokens: sp.csr_matrix, space: TokenSpace, config: ContentConfig):
        self.tokens = tokens.astype(np.float32).tocsr()
        self.tokens_t = self.tokens.T.tocsr()
        self.space = space
        self.config = config
        self.n_items = int(tokens.shape[0])
        self.has_content = np.diff(self.tokens.indptr) > 0

    @classmethod
    def fit(
        cls, n_items: int, columns: Sequence[PropertyColumn], config: ContentConfig | None = None
    ) -> ContentModel:
        cfg = config or ContentConfig()
        space = TokenSpace.fit(
            n_items,
            columns,
            numeric_bins=cfg.numeric_bins,
            neighbor_weight=cfg.neighbor_bin_weight,
            min_df=cfg.min_df,
            property_weights=cfg.property_weights,
        )
        return cls(space.encode(n_items, columns), space, cfg)

    def encode(self, columns: Sequence[PropertyColumn], n_items: int) -> sp.csr_matrix:
        """Token rows for items that were not in the training catalog (same vocabulary)."""
        return self.space.encode(n_items, columns)

    def profile_tokens(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Signal-weighted mean token vector of each profile (dense ``rows x tokens``)."""
        n_rows = profiles.shape[0]
        rows = np.repeat(np.arange(n_rows), np.diff(profiles.indptr))
        mass = np.bincount(rows, weights=np.abs(profiles.data), minlength=n_rows)
        dense = np.zeros((n_rows, self.n_items), dtype=np.float32)
        np.add.at(dense, (rows, profiles.indices), profiles.data)
        agg = (self.tokens_t @ dense.T).T
        scale = (1.0 / np.maximum(mass, 1e-9)).astype(np.float32)
        return np.asarray(np.asarray(agg, dtype=np.float32) * scale[:, None])

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Mean cosine between each item and the profile's items, signal-weighted."""
        agg = self.profile_tokens(profiles)
        return np.ascontiguousarray((self.tokens @ agg.T).T, dtype=np.float32)

    def score_tokens(self, token_rows: sp.csr_matrix) -> np.ndarray:
        """Cosine of every catalog item to arbitrary token rows (e.g. a new item)."""
        dense = np.asarray(sp.csr_matrix(token_rows).toarray(), dtype=np.float32)
        return np.ascontiguousarray((self.tokens @ dense.T).T, dtype=np.float32)

    def similar_items(self, item: int) -> np.ndarray:
        return self.score_tokens(self.tokens[item]).ravel()

    def neighbors(
        self, rows: np.ndarray, candidates: np.ndarray, k: int, prior: np.ndarray
    ) -> sp.csr_matrix:
        """Each row item's ``k`` most similar ``candidates`` by content, weights summing to 1.

        Returns ``(n_items x len(candidates))`` CSR, empty outside ``rows``; ``prior``
        (over candidates, in [0, 1]) breaks the many ties of coarse properties.
        """
        cand = np.asarray(self.tokens[candidates].toarray().T, dtype=np.float32)
        tie = 1e-3 * np.asarray(prior, dtype=np.float32)
        parts = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))]
        for start in range(0, len(rows), 1024):
            block = rows[start : start + 1024]
            sims = np.asarray(self.tokens[block].toarray() @ cand) + tie
            parts.append(_top_weights(sims, block, k))
        r, c, v = (np.concatenate(x) for x in zip(*parts, strict=True))
        shape = (self.n_items, len(candidates))
        return sp.csr_matrix((v.astype(np.float32), (r, c)), shape=shape)

    def to_arrays(self) -> Arrays:
        out = csr_to_arrays("tokens_", self.tokens)
        out["config"] = json_array(self.config.to_dict())
        out.update(self.space.to_arrays("space_"))
        return out

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> ContentModel:
        config = ContentConfig.from_dict(from_json_array(arrays["config"]))
        space = TokenSpace.from_arrays("space_", arrays)
        return cls(csr_from_arrays("tokens_", arrays), space, config)

    def save(self, path: str) -> None:
        save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str) -> ContentModel:
        return cls.from_arrays(load_npz(path))
