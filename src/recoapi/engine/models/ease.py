"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders") with dropout emphasis.

``B = argmin ||X - XB||^2 + ||Lambda^1/2 B||^2  s.t. diag(B) = 0`` has the closed form
``B = I - P diagMat(1 / diag(P))`` with ``P = (X'X + Lambda)^-1``. We use the per-item
regulariser of EDLAE (Steck 2020, "Autoencoders that don't overfit towards the identity"):
``Lambda_ii = l2 + dropout / (1 - dropout) * G_ii``, i.e. training under random input
dropout, which penalises popular items' self-reconstruction more and lifts ranking quality.

The dense matrix only covers items with at least ``min_support`` signals (at most
``max_items`` of them), which bounds the cubic training cost and the model's memory; the
hybrid reaches the other items through the content signal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recoapi.engine.models._arrays import (
    Arrays,
    from_json_array,
    json_array,
    load_npz,
    remap_columns,
    save_npz,
    support_counts,
)

__all__ = ["EaseConfig", "EaseModel"]


@dataclass(frozen=True)
class EaseConfig:
    l2: float = 200.0
    """Constant L2 weight added to every diagonal entry of the Gram matrix."""
    dropout: float = 0.0
    """EDLAE dropout probability; adds ``dropout/(1-dropout) * G_ii`` to the diagonal."""
    min_support: int = 3
    """Items with fewer profiles holding a signal stay out of the dense matrix."""
    max_items: int = 12000
    """Upper bound on the dense matrix size (most supported items win)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EaseConfig:
        return cls(**data)


def select_items(weights: sp.csr_matrix, config: EaseConfig) -> np.ndarray:
    """Indices (sorted) of the items that get a row in the dense matrix."""
    support = support_counts(weights, weights.shape[1])
    eligible = np.flatnonzero(support >= max(config.min_support, 1))
    if eligible.size > config.max_items:
        order = np.argsort(-support[eligible], kind="stable")[: config.max_items]
        eligible = np.sort(eligible[order])
    return eligible


def _inverse_spd(mat: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix via Cholesky (half the flops of LU)."""
    chol, info = lapack.dpotrf(mat, lower=0, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix is not positive definite (info={info})")
    inv, info = lapack.dpotri(chol, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inverse failed (info={info})")
    upper = np.triu(inv)
    return upper + np.triu(upper, 1).T


def dense_gram(x: sp.csr_matrix) -> np.ndarray:
    """``X'X`` in float64 through dense BLAS: much faster than a sparse product here,
    because the Gram matrix of a ratings matrix is nearly dense."""
    dense = x.toarray().astype(np.float32)
    return (dense.T @ dense).astype(np.float64)


def solve_ease(gram: np.ndarray, config: EaseConfig) -> np.ndarray:
    """The EASE/EDLAE weight matrix for a dense Gram matrix (float64 in, float32 out)."""
    diag = np.diag(gram).copy()
    emphasis = config.dropout / (1.0 - config.dropout) if config.dropout > 0 else 0.0
    gram[np.diag_indices_from(gram)] += config.l2 + emphasis * diag
    p = _inverse_spd(gram)
    b = p / (-np.diag(p))[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b.astype(np.float32)


class EaseModel:
    """Item-item weights ``B`` over a subset of the catalog (``items``)."""

    def __init__(self, n_items: int, items: np.ndarray, weights: np.ndarray, config: EaseConfig):
        self.n_items = int(n_items)
        self.items = np.asarray(items, dtype=np.int64)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.config = config
        self.local = np.full(self.n_items, -1, dtype=np.int64)
        self.local[self.items] = np.arange(self.items.size)

    @classmethod
    def fit(cls, signals: sp.csr_matrix, config: EaseConfig | None = None) -> EaseModel:
        """Fit on a (profiles x items) matrix of signal weights."""
        cfg = config or EaseConfig()
        items = select_items(signals, cfg)
        gram = dense_gram(signals[:, items])
        weights = solve_ease(gram, cfg) if items.size else np.zeros((0, 0), np.float32)
        return cls(signals.shape[1], items, weights, cfg)

    def score_local(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Scores over ``items`` only: ``(n_rows, len(items))``."""
        local = remap_columns(profiles, self.local, self.items.size)
        return np.asarray(local @ self.weights, dtype=np.float32)

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        out = np.zeros((profiles.shape[0], self.n_items), dtype=np.float32)
        out[:, self.items] = self.score_local(profiles)
        return out

    def similar_items(self, item: int) -> np.ndarray:
        """Row ``item`` of B: how much a signal on ``item`` raises each other item."""
        out = np.zeros(self.n_items, dtype=np.float32)
        if self.local[item] >= 0:
            out[self.items] = self.weights[self.local[item]]
        return out

    def to_arrays(self) -> Arrays:
        return {
            "config": json_array(self.config.to_dict()),
            "n_items": np.array(self.n_items),
            "items": self.items,
            "weights": self.weights,
        }

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> EaseModel:
        config = EaseConfig.from_dict(from_json_array(arrays["config"]))
        return cls(int(arrays["n_items"]), arrays["items"], arrays["weights"], config)

    def save(self, path: str) -> None:
        save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str) -> EaseModel:
        return cls.from_arrays(load_npz(path))
