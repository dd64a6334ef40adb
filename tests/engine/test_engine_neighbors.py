"""Co-rating neighbours: the cosine matrix itself, and item-to-items built on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from enginekit import BLOCK, checkerboard, random_data, with_cold_items

from recoapi.engine.base import PropertyColumn, TrainingData
from recoapi.engine.models import HybridModel, NeighborConfig, NeighborModel, load_model
from recoapi.engine.models._arrays import load_npz, save_npz
from recoapi.engine.models.ease import EaseConfig, dense_gram
from recoapi.engine.ranking import rank_similar
from recoapi.engine.training import TrainingOptions, build_signals, train

N = 4 * BLOCK


def _fit(signals: sp.csr_matrix, config: NeighborConfig) -> NeighborModel:
    items = np.arange(signals.shape[1])
    return NeighborModel.fit(dense_gram(signals), items, signals.shape[1], config)


def _ratings(pairs: list[tuple[int, int]], n_items: int, genres: list[list[str]]) -> TrainingData:
    users = np.array([u for u, _ in pairs], np.int32)
    return TrainingData(
        n_users=int(users.max()) + 1,
        n_items=n_items,
        rating_user=users,
        rating_item=np.array([i for _, i in pairs], np.int32),
        rating_value=np.full(len(pairs), 9.0, np.float32),
        rating_time=np.arange(len(pairs), dtype=np.float64),
        item_properties=(PropertyColumn("genres", "unicode18", True, genres),),
    )


def test_neighbors_are_the_shrunk_cosine_of_the_signals() -> None:
    signals = build_signals(random_data())
    model = _fit(signals, NeighborConfig(k=1000, shrink=5.0))
    gram = (signals.T @ signals).toarray().astype(np.float64)
    norms = np.sqrt(np.diag(gram))
    expected = gram / (np.outer(norms, norms) + 5.0)
    np.fill_diagonal(expected, 0.0)
    sim = model.similarity.toarray()
    np.testing.assert_allclose(sim, expected, atol=1e-5)
    assert (sim >= 0).all() and (sim <= 1).all()
    np.testing.assert_allclose(sim, sim.T, atol=1e-6)


def test_only_the_top_k_neighbours_are_kept_and_never_the_item_itself() -> None:
    signals = build_signals(random_data())
    full = _fit(signals, NeighborConfig(k=1000, shrink=5.0)).similarity.toarray()
    top = _fit(signals, NeighborConfig(k=4, shrink=5.0)).similarity
    assert (np.diff(top.indptr) <= 4).all()
    assert (top.diagonal() == 0).all()
    for item in range(signals.shape[1]):
        kept = top[item].toarray().ravel()
        dropped = full[item][kept == 0]
        assert kept.max() >= dropped.max()  # the best ones were kept
        np.testing.assert_allclose(kept[kept > 0], full[item][kept > 0], atol=1e-6)


def test_shrink_prefers_many_co_raters_over_a_rare_item_rated_by_the_same_two() -> None:
    # Item 0: users 0-59. Item 1: only users 0 and 1 (cosine 2 / sqrt(60 * 2) = 0.18).
    # Item 2: users 0-29 and 1000 others (cosine 30 / sqrt(60 * 1030) = 0.12).
    pairs = [(u, 0) for u in range(60)] + [(0, 1), (1, 1)]
    pairs += [(u, 2) for u in range(30)] + [(u, 2) for u in range(100, 1100)]
    signals = build_signals(_ratings(pairs, 3, [["a"]] * 3))
    plain = _fit(signals, NeighborConfig(k=2, shrink=0.0)).similar_items(0)
    shrunk = _fit(signals, NeighborConfig(k=2, shrink=50.0)).similar_items(0)
    assert plain.argmax() == 1
    assert shrunk.argmax() == 2


def test_the_item_most_co_rated_comes_first_even_from_another_genre() -> None:
    rng = np.random.default_rng(0)
    n_items = 20
    pairs = [(u, int(i)) for u in range(80) for i in rng.choice(n_items, 3, replace=False)]
    pairs += [(u, i) for u in range(40) for i in (0, 7)]
    genres = [["drama"]] * n_items
    genres[7] = ["western"]
    model = train(_ratings(pairs, n_items, genres), TrainingOptions(ease=EaseConfig(l2=1.0)))
    assert isinstance(model, HybridModel)
    assert model.neighbors.similar_items(0).argmax() == 7
    assert rank_similar(model, 0, amt=1).tolist() == [7]
    assert rank_similar(model, 7, amt=1).tolist() == [0]


def test_saved_model_keeps_the_neighbours(tmp_path: Path) -> None:
    model = train(checkerboard())
    assert isinstance(model, HybridModel) and model.neighbors.similarity.nnz > 0
    path = str(tmp_path / "model.npz")
    model.save(path)
    again = load_model(path)
    for name in ("data", "indices", "indptr"):
        a, b = getattr(again.neighbors.similarity, name), getattr(model.neighbors.similarity, name)
        np.testing.assert_array_equal(a, b)
    assert again.neighbors.config == model.neighbors.config
    for item in (0, BLOCK + 1, N - 1):
        np.testing.assert_array_equal(again.similar_items(item), model.similar_items(item))


def test_a_model_saved_without_neighbours_loads_and_answers_through_ease(tmp_path: Path) -> None:
    data = checkerboard()
    model = train(data)
    path = str(tmp_path / "old.npz")
    save_npz(path, {k: v for k, v in model.to_arrays().items() if not k.startswith("neighbors/")})
    old = load_model(path)
    assert old.neighbors.similarity.nnz == 0
    ease_only = train(data, TrainingOptions(neighbors=NeighborConfig(k=0)))
    np.testing.assert_array_equal(old.similar_items(2), ease_only.similar_items(2))
    assert "neighbors/similarity_data" not in load_npz(path)


def test_new_catalog_items_get_empty_neighbour_rows() -> None:
    data = checkerboard()
    model = train(data)
    assert isinstance(model, HybridModel)
    grown = with_cold_items(data, [["g2"], ["g0"]])
    bigger = model.with_items(grown.n_items, grown.item_properties)
    assert bigger.neighbors.similarity.shape == (N + 2, N + 2)
    assert not bigger.neighbors.has_neighbors(N) and not bigger.neighbors.has_neighbors(N + 1)
    for item in range(N):
        np.testing.assert_array_equal(
            bigger.neighbors.similar_items(item)[:N], model.neighbors.similar_items(item)
        )
    assert set(rank_similar(bigger, N, amt=BLOCK).tolist()) == set(range(2 * BLOCK, 3 * BLOCK))
    # An old item may now list a new one through content, never above its co-raters.
    assert set(rank_similar(bigger, 1, amt=BLOCK - 1).tolist()) == set(range(BLOCK)) - {1}


def test_items_rated_too_rarely_or_never_have_no_neighbours_but_similar_items() -> None:
    data = with_cold_items(checkerboard(), [["g1"]])
    model = train(data, TrainingOptions(ease=EaseConfig(min_support=3)))
    assert isinstance(model, HybridModel)
    assert not model.neighbors.has_neighbors(N)
    assert all(model.neighbors.has_neighbors(i) for i in range(N))
    assert set(rank_similar(model, N, amt=BLOCK).tolist()) == set(range(BLOCK, 2 * BLOCK))


def test_training_options_keep_the_neighbour_config() -> None:
    options = TrainingOptions(neighbors=NeighborConfig(k=7, shrink=3.5))
    again = TrainingOptions.from_dict(json.loads(json.dumps(options.to_dict())))
    assert again == options
    legacy = {k: v for k, v in TrainingOptions().to_dict().items() if k != "neighbors"}
    assert TrainingOptions.from_dict(legacy) == TrainingOptions()


def test_k_larger_than_the_catalog_and_k_zero() -> None:
    signals = build_signals(random_data())
    assert _fit(signals, NeighborConfig(k=0)).similarity.nnz == 0
    wide = _fit(signals, NeighborConfig(k=10_000, shrink=1.0))
    assert (np.diff(wide.similarity.indptr) <= signals.shape[1] - 1).all()
    single = NeighborModel.fit(np.ones((1, 1), np.float32), np.array([3]), 5, NeighborConfig())
    assert single.similarity.shape == (5, 5) and single.similarity.nnz == 0
