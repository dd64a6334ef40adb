"""Reference models the default engine is measured against (evaluation only).

Every peer takes raw 1..10 ratings, keeps those at or above its ``threshold`` (or all of
them when ``threshold`` is None) as binary implicit feedback, and scores *profiles*: rows
of ratings that may belong to users it never saw. Factor models fold such a row in by
solving for its user vector with the item factors fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

__all__ = [
    "ALSPeer",
    "BPRPeer",
    "CHECKPOINTED",
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
        self.neighbours = sp.csc_matrix((0, 0), dtype=np.float32)

    def fit(self, ratings: sp.csr_matrix) -> None:
        x = binarize(ratings, self.threshold)
        active = np.flatnonzero(np.diff(x.tocsc().indptr))
        gram = _dense_gram(x[:, active])
        norms = np.sqrt(np.diag(gram))
        sim = gram / (np.outer(norms, norms) + self.shrink + 1e-9)
        np.fill_diagonal(sim, 0.0)
        local = _keep_top_k_per_column(sim.astype(np.float32), self.k).tocoo()
        full = (local.data, (active[local.row], active[local.col]))
        self.similarity = sp.csr_matrix(full, shape=(x.shape[1], x.shape[1]))
        self.neighbours = self.similarity.tocsc()

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        return np.asarray((x @ self.similarity).toarray(), dtype=np.float32)

    def similar_items(self, item: int) -> np.ndarray:
        """The ``k`` nearest neighbours of ``item`` (column ``item``)."""
        return np.asarray(self.neighbours[:, item].toarray(), dtype=np.float32).ravel()


class EASEPeer:
    """EASE (Steck 2019): closed-form item-item regression with a zero diagonal.

    With ``P = (XᵀX + λI)⁻¹`` the weights are ``B = I - P / diag(P)``. When there are fewer
    training users than items, ``P`` comes from the users' side by the Woodbury identity,
    ``P = (I - Xᵀ(XXᵀ + λI)⁻¹X) / λ``, and ``B`` is never formed: scoring only needs
    ``xP``. Both routes give the same model.
    """

    name = "EASE"

    def __init__(self, l2: float = 500.0, threshold: float | None = None) -> None:
        self.l2, self.threshold = l2, threshold
        self.n_items = 0
        self.active = np.zeros(0, dtype=np.int64)
        self.diag = np.zeros(0)
        self.precision: np.ndarray | None = None  # P, item side
        self.users = np.zeros((0, 0))  # X, user side
        self.solved = np.zeros((0, 0))  # (XXᵀ + λI)⁻¹X, user side

    def fit(self, ratings: sp.csr_matrix) -> None:
        x = binarize(ratings, self.threshold)
        self.n_items = x.shape[1]
        # Items nobody rated have zero rows and columns in B: leave them out.
        self.active = np.flatnonzero(np.diff(x.tocsc().indptr))
        dense = x[:, self.active].toarray().astype(np.float64)
        if dense.shape[0] < dense.shape[1]:
            self.users, self.precision = dense, None
            self.solved = _spd_inverse(_add_ridge(dense @ dense.T, self.l2)) @ dense
            self.diag = (1.0 - np.einsum("ui,ui->i", dense, self.solved)) / self.l2
        else:
            self.precision = _spd_inverse(_add_ridge(dense.T @ dense, self.l2))
            self.diag = np.diag(self.precision).copy()

    def _times_precision(self, x: np.ndarray) -> np.ndarray:
        if self.precision is not None:
            return np.asarray(x @ self.precision)
        return np.asarray((x - (x @ self.users.T) @ self.solved) / self.l2)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)[:, self.active].toarray().astype(np.float64)
        out = np.zeros((profiles.shape[0], self.n_items), dtype=np.float32)
        out[:, self.active] = x - self._times_precision(x) / self.diag
        return out

    def similar_items(self, item: int) -> np.ndarray:
        """Row ``item`` of B: how much rating ``item`` raises every other item."""
        out = np.zeros(self.n_items, dtype=np.float32)
        position = int(np.searchsorted(self.active, item))
        if position < len(self.active) and self.active[position] == item:
            unit = np.zeros((1, len(self.active)))
            unit[0, position] = 1.0
            row = -self._times_precision(unit)[0] / self.diag
            row[position] = 0.0
            out[self.active] = row
        return out


Callback = Callable[[int], None]


class ALSPeer:
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) from the ``implicit`` library.

    A profile is folded in by the same least-squares step ALS makes for a user, with the
    item factors fixed: ``x = (YᵀY + λI + (α-1)·Y_pᵀY_p)⁻¹ α·Y_pᵀ1`` over its items ``p``.
    """

    name = "ALS"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 10.0,
        alpha: float = 5.0,
        iterations: int = 15,
        threshold: float | None = None,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.threshold, self.seed, self.threads = (
            iterations,
            threshold,
            seed,
            threads,
        )
        self.item_factors = np.zeros((0, factors))

    def fit(self, ratings: sp.csr_matrix, callback: Callback | None = None) -> None:
        """``callback(n)`` runs after iteration ``n`` with ``item_factors`` current."""
        from implicit.cpu.als import AlternatingLeastSquares

        def on_iteration(iteration: int, _elapsed: float, _loss: float | None) -> None:
            self.item_factors = np.asarray(model.item_factors, dtype=np.float64)
            if callback is not None:
                callback(iteration + 1)

        # implicit runs its own threads; a threaded BLAS underneath only slows it down.
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads,
            )
            model.fit(binarize(ratings, self.threshold), show_progress=False, callback=on_iteration)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        y = self.item_factors
        base = y.T @ y + self.regularization * np.eye(y.shape[1])
        users = np.zeros((x.shape[0], y.shape[1]))
        for row in range(x.shape[0]):
            liked = y[x.indices[x.indptr[row] : x.indptr[row + 1]]]
            system = base + (self.alpha - 1.0) * liked.T @ liked
            users[row] = np.linalg.solve(system, self.alpha * liked.sum(axis=0))
        return np.asarray(users @ y.T, dtype=np.float32)


class BPRPeer:
    """Bayesian Personalized Ranking (Rendle et al. 2009) from ``implicit``.

    BPR learns no rule for unseen users, so a profile is folded in by running BPR's own
    objective on the user vector alone (item factors and biases fixed): seeded SGD with
    one sampled item per rated item and step.
    """

    name = "BPR"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        fold_in_steps: int = 100,
        fold_in_rate: float = 0.1,
        threshold: float | None = None,
        seed: int = 0,
    ) -> None:
        self.factors, self.learning_rate, self.regularization = (
            factors,
            learning_rate,
            regularization,
        )
        self.iterations, self.threshold, self.seed = iterations, threshold, seed
        self.fold_in_steps, self.fold_in_rate = fold_in_steps, fold_in_rate
        self.item_factors = np.zeros((0, factors + 1))  # last column: item bias

    def fit(self, ratings: sp.csr_matrix, callback: Callback | None = None) -> None:
        """``callback(n)`` runs after epoch ``n`` with ``item_factors`` current."""
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        def on_epoch(epoch: int, *_stats: Any) -> None:
            self.item_factors = np.asarray(model.item_factors, dtype=np.float64)
            if callback is not None:
                callback(epoch + 1)

        # One thread: BPR's lock-free SGD is only reproducible when it runs alone.
        with threadpool_limits(limits=1, user_api="blas"):
            model = BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=1,
            )
            model.fit(binarize(ratings, self.threshold), show_progress=False, callback=on_epoch)

    def score(self, profiles: sp.csr_matrix) -> np.ndarray:
        x = binarize(profiles, self.threshold)
        rng = np.random.default_rng(self.seed)
        users = np.zeros((x.shape[0], self.item_factors.shape[1]))
        for row in range(x.shape[0]):
            users[row] = self._fold_in(x.indices[x.indptr[row] : x.indptr[row + 1]], rng)
        return np.asarray(users @ self.item_factors.T, dtype=np.float32)

    def _fold_in(self, positives: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A user vector whose last entry is the constant 1 that multiplies item biases."""
        user = np.zeros(self.item_factors.shape[1])
        user[-1] = 1.0
        if len(positives) == 0:
            return user
        for _ in range(self.fold_in_steps):
            negatives = rng.integers(0, len(self.item_factors), len(positives))
            diff = self.item_factors[positives] - self.item_factors[negatives]
            weight = 1.0 / (1.0 + np.exp(diff @ user))  # sigmoid(-margin)
            gradient = (weight[:, None] * diff[:, :-1]).mean(axis=0)
            user[:-1] += self.fold_in_rate * (gradient - self.regularization * user[:-1])
        return user


PEERS: dict[str, type] = {
    "popularity": PopularityPeer,
    "item-kNN": ItemKNNPeer,
    "EASE": EASEPeer,
    "ALS": ALSPeer,
    "BPR": BPRPeer,
}

# Small grids so that tuning every peer on ml-latest-small takes a few minutes on 2 cores.
# For the factor models ("CHECKPOINTED") the iteration counts are checkpoints of one fit.
PEER_GRIDS: dict[str, dict[str, list[Any]]] = {
    "popularity": {"threshold": [None, 7.0]},
    "item-kNN": {"threshold": [None, 7.0], "k": [50, 200], "shrink": [0.0, 25.0]},
    "EASE": {"threshold": [None, 7.0], "l2": [30.0, 100.0, 200.0, 400.0, 1000.0]},
    "ALS": {
        "threshold": [None, 7.0],
        "factors": [64, 128],
        "regularization": [3.0, 10.0, 30.0],
        "alpha": [1.0, 2.0, 5.0],
        "iterations": [5, 10, 20],
    },
    "BPR": {
        "threshold": [None, 7.0],
        "factors": [64],
        "learning_rate": [0.01, 0.03],
        "iterations": [100, 200, 400],
    },
}
CHECKPOINTED = frozenset({"ALS", "BPR"})


def make_peer(name: str, **params: Any) -> Peer:
    try:
        cls = PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}: use one of {', '.join(PEERS)}") from None
    peer: Peer = cls(**params)
    return peer


def _dense_gram(x: sp.csr_matrix) -> np.ndarray:
    """``XᵀX`` through dense BLAS: faster than a sparse product once items co-occur a lot."""
    dense = np.asarray(x.toarray(), dtype=np.float32)
    return np.asarray(dense.T @ dense)


def _add_ridge(matrix: np.ndarray, l2: float) -> np.ndarray:
    matrix[np.diag_indices_from(matrix)] += l2
    return matrix


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    factor, info = lapack.dpotrf(matrix, lower=True, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky failed (info={info}): raise the L2 weight")
    inverse, info = lapack.dpotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse failed (info={info})")
    lower = np.tril(inverse)
    return np.asarray(lower + np.tril(lower, -1).T)


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
