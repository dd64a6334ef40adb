"""Reference models the default engine is measured against (evaluation only).

Every peer takes raw 1..10 ratings, keeps those at or above its ``threshold`` (or all of
them when ``threshold`` is None) as binary implicit feedback, and scores *profiles*: rows
of ratings that may belong to users it never saw. Factor models fold such a row in by
solving for its user vector with the item factors fixed.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

__all__ = [
    "ALSPeer",
    "BPRPeer",
    "EASEPeer",
    "ItemKNNPeer",
    "PEER_GRIDS",
    "Peer",
    "PopularityPeer",
    "binarize",
    "make_peer",
]


class Peer(Protocol):
    name: str

    def fit(self, ratings: sp.csr_matrix) -> None: ...

    def score(self, profiles: sp.csr_matrix) -> np.ndarray: ...


def binarize(ratings: sp.csr_matrix, threshold: float | None) -> sp.csr_matrix:
    """1.0 where a rating is at least ``threshold`` (every rating when None)."""
    keep = ratings.copy().tocsr()
    if threshold is not None:
        keep.data = np.where(keep.data >= threshold, 1.0, 0.0)
        keep.eliminate_zeros()
    keep.data = np.ones_like(keep.data, dtype=np.float32)
    return keep.astype(np.float32)


class PopularityPeer:
    """Everyone gets the items most often rated (at least ``threshold``) in training."""

    name = "popularity"

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, ratings: sp.csr_matrix) -> None:
        self.counts = np.asarray(binarize(ratings, self.threshold).sum(axis=0)).ravel()

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.counts.astype(np.float32), (profiles.shape[0], 1))


class ItemKNNPeer:
    """Item-based kNN: shrunk cosine similarity, ``k`` nearest neighbours per item."""

    name = "item-kNN"

    def __init__(self, k: int = 100, shrink: float = 0.0, threshold: float | None = None) -> None:
        self.k, self.shrink, self.threshold = k, shrink, threshold
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, ratings: sp.csr_matrix) -> None:
        x = binarize(ratings, self.threshold)
        gram = _dense_gram(x)
        norms = np.sqrt(np.diag(gram))
        sim = gram / (np.outer(norms, norms) + self.shrink + 1e-9)
        np.fill_diagonal(sim, 0.0)
        self.similarity = _keep_top_k_per_column(sim.astype(np.float32), self.k)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        return np.asarray((x @ self.similarity).toarray(), dtype=np.float32)

    def similar_items(self, item: int) -> np.ndarray:
        return np.asarray(self.similarity[item].toarray(), dtype=np.float32).ravel()


class EASEPeer:
    """EASE (Steck 2019): closed-form item-item regression with a zero diagonal."""

    name = "EASE"

    def __init__(self, l2: float = 500.0, threshold: float | None = None) -> None:
        self.l2, self.threshold = l2, threshold
        self.active = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros((0, 0), dtype=np.float32)
        self.n_items = 0

    def fit(self, ratings: sp.csr_matrix) -> None:
        x = binarize(ratings, self.threshold)
        self.n_items = x.shape[1]
        # Items nobody rated have zero rows and columns in B: leave them out of the inverse.
        self.active = np.flatnonzero(np.diff(x.tocsc().indptr))
        gram = _dense_gram(x[:, self.active]).astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        precision = _spd_inverse(gram)
        weights = precision / -np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        self.weights = weights.astype(np.float32)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)[:, self.active]
        out = np.zeros((profiles.shape[0], self.n_items), dtype=np.float32)
        out[:, self.active] = x @ self.weights
        return out

    def similar_items(self, item: int) -> np.ndarray:
        out = np.zeros(self.n_items, dtype=np.float32)
        position = np.searchsorted(self.active, item)
        if position < len(self.active) and self.active[position] == item:
            out[self.active] = self.weights[position]
        return out


class ALSPeer:
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) from the ``implicit`` library."""

    name = "ALS"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 1.0,
        alpha: float = 10.0,
        iterations: int = 15,
        threshold: float | None = None,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha,
                       "iterations": iterations}
        self.threshold, self.seed, self.threads = threshold, seed, threads
        self.model: Any = None

    def fit(self, ratings: sp.csr_matrix) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit runs its own threads; a threaded BLAS underneath only slows it down.
        with threadpool_limits(limits=1, user_api="blas"):
            self.model = AlternatingLeastSquares(
                **self.params, random_state=self.seed, num_threads=self.threads
            )
            self.model.fit(binarize(ratings, self.threshold), show_progress=False)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        with threadpool_limits(limits=1, user_api="blas"):
            users = self.model.recalculate_user(np.arange(x.shape[0]), x)
        return np.asarray(users @ self.model.item_factors.T, dtype=np.float32)


class BPRPeer:
    """Bayesian Personalized Ranking (Rendle et al. 2009) from ``implicit``.

    BPR learns no rule for unseen users, so a profile is folded in by ridge regression of
    its binary row on the item factors (the item bias stays as learnt).
    """

    name = "BPR"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        fold_in_l2: float = 1.0,
        threshold: float | None = None,
        seed: int = 0,
    ) -> None:
        self.params = {"factors": factors, "learning_rate": learning_rate,
                       "regularization": regularization, "iterations": iterations}
        self.fold_in_l2, self.threshold, self.seed = fold_in_l2, threshold, seed
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, ratings: sp.csr_matrix) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        # One thread: BPR's lock-free SGD is only reproducible when it runs alone.
        with threadpool_limits(limits=1, user_api="blas"):
            model = BayesianPersonalizedRanking(**self.params, random_state=self.seed, num_threads=1)
            model.fit(binarize(ratings, self.threshold), show_progress=False)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float64)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        factors, bias = self.item_factors[:, :-1], self.item_factors[:, -1]
        system = factors.T @ factors + self.fold_in_l2 * np.eye(factors.shape[1])
        users = np.linalg.solve(system, (x @ factors).T).T
        return np.asarray(users @ factors.T + bias, dtype=np.float32)


PEERS: dict[str, type] = {
    "popularity": PopularityPeer,
    "item-kNN": ItemKNNPeer,
    "EASE": EASEPeer,
    "ALS": ALSPeer,
    "BPR": BPRPeer,
}

# Small grids so that tuning all peers on ml-latest-small fits in a few minutes on 2 cores.
PEER_GRIDS: dict[str, dict[str, list[Any]]] = {
    "popularity": {"threshold": [None, 7.0]},
    "item-kNN": {"threshold": [None, 7.0], "k": [50, 200, 1000], "shrink": [0.0, 25.0]},
    "EASE": {"threshold": [None, 7.0], "l2": [30.0, 100.0, 300.0, 1000.0]},
    "ALS": {
        "threshold": [None, 7.0],
        "factors": [64, 128],
        "regularization": [1.0, 10.0],
        "alpha": [5.0, 20.0],
        "iterations": [15],
    },
    "BPR": {
        "threshold": [7.0],
        "factors": [64, 128],
        "learning_rate": [0.01, 0.05],
        "regularization": [0.01],
        "iterations": [100, 300],
        "fold_in_l2": [1.0],
    },
}


def make_peer(name: str, **params: Any) -> Peer:
    try:
        cls = PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}: use one of {', '.join(PEERS)}") from None
    peer: Peer = cls(**params)
    return peer


def _dense_gram(x: sp.csr_matrix) -> np.ndarray:
    """``XᵀX`` through dense BLAS: faster than a sparse product once items co-occur a lot."""
    dense = x.toarray().astype(np.float32)
    return dense.T @ dense


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    factor, info = lapack.dpotrf(matrix, lower=True, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky failed (info={info}): raise the L2 weight")
    inverse, info = lapack.dpotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse failed (info={info})")
    lower = np.tril(inverse)
    return lower + np.tril(lower, -1).T


def _keep_top_k_per_column(sim: np.ndarray, k: int) -> sp.csr_matrix:
    """Zero all but the ``k`` largest entries of each column (the neighbours of item j)."""
    n = sim.shape[0]
    if k >= n:
        return sp.csr_matrix(sim)
    rows = np.argpartition(-sim, k - 1, axis=0)[:k]
    cols = np.broadcast_to(np.arange(n), rows.shape)
    values = sim[rows, cols]
    keep = values > 0
    return sp.csr_matrix((values[keep], (rows[keep], cols[keep])), shape=sim.shape)
