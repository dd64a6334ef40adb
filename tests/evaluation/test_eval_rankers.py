"""Rankers, tuning helpers and similar-items measures on small known cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from recoapi.engine.base import TrainingData
from recoapi.engine.training import TrainingOptions
from recoapi.evaluation.datasets import RatingsDataset
from recoapi.evaluation.peers import PopularityPeer
from recoapi.evaluation.protocols import make_split
from recoapi.evaluation.rankers import PeerRanker, ratings_matrix, top_items
from recoapi.evaluation.similarity import co_rated_hit_rate, genre_agreement, jaccard
from recoapi.evaluation.tuning import (
    clearly_better,
    expand_grid,
    option_value,
    options_with,
    tune_engine,
    tune_peer,
)


def test_top_items_excludes_and_breaks_ties_by_index() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1], dtype=np.float32)
    assert top_items(scores, np.array([], dtype=np.int64), 3).tolist() == [1, 3, 0]
    assert top_items(scores, np.array([1]), 3).tolist() == [3, 0, 2]
    assert top_items(scores, np.array([0, 1, 2, 3]), 3).tolist() == [4]


def test_ratings_matrix_keeps_the_latest_rating() -> None:
    data = TrainingData(
        n_users=2,
        n_items=3,
        rating_user=np.array([0, 0, 1], np.int32),
        rating_item=np.array([2, 2, 0], np.int32),
        rating_value=np.array([9.0, 3.0, 7.0], np.float32),
        rating_time=np.array([20.0, 10.0, 5.0]),
    )
    assert ratings_matrix(data).toarray().tolist() == [[0, 0, 9], [7, 0, 0]]


def test_peer_ranker_never_returns_rated_items(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    peer = PopularityPeer()
    peer.fit(ratings_matrix(split.train))
    ranked = PeerRanker(peer, synthetic.n_items).rank(split.test, 10)
    for items, rated in zip(ranked, split.test.rated_items(), strict=True):
        assert len(items) == 10 and not np.isin(items, rated).any()


def test_expand_grid_and_nested_options() -> None:
    assert expand_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    base = TrainingOptions()
    changed = options_with(base, "ease.l2", 123.0)
    assert option_value(changed, "ease.l2") == 123.0
    assert base == TrainingOptions()  # the original is untouched
    assert options_with(base, "seed", 7).seed == 7


def test_tune_peer_keeps_the_best_validation_score(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    grid: dict[str, list[Any]] = {"threshold": [None, 7.0], "l2": [1.0, 10.0]}
    tuned = tune_peer("EASE", grid, ratings_matrix(split.train), split.validation, seed=0)
    assert len(tuned.trials) == 4
    assert tuned.validation_ndcg == max(t.validation_ndcg for t in tuned.trials)
    assert tuned.params in [t.params for t in tuned.trials]


def test_clearly_better_needs_a_gain_above_one_paired_standard_error() -> None:
    base = np.array([0.5, 0.4, 0.6, 0.3])
    assert clearly_better(base + 0.01, base)  # the same gain for everyone: s.e. 0
    assert not clearly_better(base, base)
    noisy = base + np.array([0.2, -0.19, 0.2, -0.19])  # mean +0.005, s.e. ~0.11
    assert not clearly_better(noisy, base)
    assert not clearly_better(base - 0.01, base)


def test_tune_engine_keeps_the_defaults_without_clear_evidence(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    chosen, shipped = tune_engine(split.train, split.validation)
    assert shipped.params["changed_from_defaults"] == {}
    assert len(chosen.trials) >= 3
    if chosen.params != shipped.params:  # a move away from the defaults must be earned
        assert chosen.validation_ndcg > shipped.validation_ndcg


def test_checkpointed_tuning_records_each_iteration_count(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    grid = {"factors": [4], "iterations": [2, 4]}
    tuned = tune_peer("ALS", grid, ratings_matrix(split.train), split.validation, seed=0)
    assert [t.params["iterations"] for t in tuned.trials] == [2, 4]


def test_jaccard_and_genre_agreement() -> None:
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert jaccard([], []) == 0.0
    genres = [["a"], ["a", "b"], ["c"], []]
    summary = genre_agreement({0: np.array([1, 2]), 3: np.array([0])}, genres)
    assert summary.n == 1  # item 3 has no genres
    assert summary.mean == pytest.approx((0.5 + 0.0) / 2)


def test_co_rated_hit_rate() -> None:
    lists = {1: np.array([5, 6]), 2: np.array([7, 8]), 3: np.array([9])}
    queries = [np.array([1, 2]), np.array([3])]
    targets = [np.array([6]), np.array([4])]
    summary = co_rated_hit_rate(lists, queries, targets)
    assert summary.mean == pytest.approx((0.5 + 0.0) / 2)
    assert summary.n == 2
