"""Peers: EASE against its textbook formula, kNN neighbours, factor-model fold-in."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recoapi.evaluation.peers import (
    ALSPeer,
    BPRPeer,
    EASEPeer,
    ItemKNNPeer,
    PopularityPeer,
    binarize,
    make_peer,
)

RNG_SEED = 42


def random_ratings(n_users: int, n_items: int, density: float = 0.3) -> sp.csr_matrix:
    rng = np.random.default_rng(RNG_SEED)
    mask = rng.random((n_users, n_items)) < density
    values = rng.integers(1, 11, (n_users, n_items)) * mask
    return sp.csr_matrix(values.astype(np.float32))


def textbook_ease(x: np.ndarray, l2: float) -> np.ndarray:
    """Steck (2019), Algorithm 1: B = I - P / diag(P), with a zero diagonal."""
    gram = x.T @ x + l2 * np.eye(x.shape[1])
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return np.asarray(b)


def test_binarize_threshold() -> None:
    ratings = sp.csr_matrix(np.array([[2.0, 8.0, 0.0], [7.0, 0.0, 10.0]], dtype=np.float32))
    assert binarize(ratings, 7.0).toarray().tolist() == [[0, 1, 0], [1, 0, 1]]
    assert binarize(ratings, None).toarray().tolist() == [[1, 1, 0], [1, 0, 1]]


@pytest.mark.parametrize("shape", [(15, 30), (50, 12)])  # user side (Woodbury) and item side
def test_ease_matches_the_closed_form(shape: tuple[int, int]) -> None:
    ratings = random_ratings(*shape)
    peer = EASEPeer(l2=5.0, threshold=6.0)
    peer.fit(ratings)
    x = binarize(ratings, 6.0).toarray().astype(np.float64)
    active = np.flatnonzero(x.sum(axis=0))
    b = np.zeros((shape[1], shape[1]))
    b[np.ix_(active, active)] = textbook_ease(x[:, active], 5.0)
    profiles = random_ratings(4, shape[1], density=0.5)
    expected = binarize(profiles, 6.0).toarray() @ b
    assert peer.score(profiles) == pytest.approx(expected.astype(np.float32), abs=1e-4)
    item = int(active[0])
    assert peer.similar_items(item) == pytest.approx(b[item].astype(np.float32), abs=1e-4)


def test_item_knn_keeps_k_cosine_neighbours() -> None:
    ratings = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1]], np.float32))
    peer = ItemKNNPeer(k=1, shrink=0.0)
    peer.fit(ratings)
    sim = peer.similarity.toarray()
    assert (np.count_nonzero(sim, axis=0) <= 1).all()
    # item 0 = users {0,1}, item 1 = users {0,1,2}: cosine 2 / sqrt(2 * 3)
    assert sim[1, 0] == pytest.approx(2 / np.sqrt(6))
    scores = peer.score(sp.csr_matrix(np.array([[0, 1, 0, 0]], np.float32)))
    assert scores[0, 0] == pytest.approx(2 / np.sqrt(6))


def test_popularity_counts_ratings_over_threshold() -> None:
    ratings = sp.csr_matrix(np.array([[9, 2, 0], [8, 0, 3], [1, 10, 0]], np.float32))
    peer = PopularityPeer(threshold=7.0)
    peer.fit(ratings)
    assert peer.score(ratings[:1]).tolist() == [[2.0, 1.0, 0.0]]


def test_als_fold_in_matches_implicit_recalculate_user() -> None:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    ratings = random_ratings(40, 25)
    peer = ALSPeer(factors=8, regularization=1.0, alpha=4.0, iterations=5, seed=1, threads=1)
    peer.fit(ratings)
    profiles = random_ratings(3, 25, density=0.4)
    with threadpool_limits(limits=1, user_api="blas"):
        reference = AlternatingLeastSquares(factors=8, regularization=1.0, alpha=4.0)
        reference.item_factors = peer.item_factors.astype(np.float32)
        users = reference.recalculate_user(np.arange(3), binarize(profiles, None))
    expected = users @ reference.item_factors.T
    assert peer.score(profiles) == pytest.approx(expected, rel=1e-3, abs=1e-4)


def test_factor_models_are_seeded_and_report_checkpoints() -> None:
    ratings = random_ratings(40, 25)
    seen: list[int] = []
    first = BPRPeer(factors=4, iterations=6, seed=3)
    first.fit(ratings, callback=seen.append)
    second = BPRPeer(factors=4, iterations=6, seed=3)
    second.fit(ratings)
    assert seen == [1, 2, 3, 4, 5, 6]
    assert np.array_equal(first.item_factors, second.item_factors)
    assert np.array_equal(first.score(ratings[:3]), second.score(ratings[:3]))


def test_make_peer_rejects_unknown_names() -> None:
    assert isinstance(make_peer("EASE", l2=1.0), EASEPeer)
    with pytest.raises(ValueError, match="unknown peer"):
        make_peer("SLIM")
