"""Metric functions on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recoapi.evaluation.metrics import (
    Summary,
    catalog_coverage,
    coverage_summary,
    evaluate_rankings,
    hit_rate_at_k,
    ndcg_at_k,
    recall_at_k,
    summarize,
)


def arrays(*lists: list[int]) -> list[np.ndarray]:
    return [np.array(x, dtype=np.int64) for x in lists]


def test_ndcg_single_hit_at_rank_two() -> None:
    # DCG = 1/log2(3); one target, so the ideal DCG is 1.
    value = ndcg_at_k(arrays([1, 2, 3]), arrays([2]), 3)
    assert value == pytest.approx([1 / math.log2(3)])


def test_ndcg_ideal_uses_min_of_k_and_targets() -> None:
    # Hits at ranks 2 and 4; 3 targets, k=4: ideal = 1 + 1/log2(3) + 1/log2(4).
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 0.5
    value = ndcg_at_k(arrays([5, 1, 7, 2]), arrays([1, 2, 9]), 4)
    assert value == pytest.approx([dcg / ideal])
    assert value[0] == pytest.approx(0.498189, abs=1e-6)


def test_ndcg_is_one_when_top_k_is_all_targets() -> None:
    # More targets than k: a top-k made only of targets is perfect.
    assert ndcg_at_k(arrays([1, 2]), arrays([1, 2, 3]), 2) == pytest.approx([1.0])


def test_ndcg_ignores_ranks_beyond_k_and_misses() -> None:
    assert ndcg_at_k(arrays([4, 5, 1]), arrays([1]), 2) == pytest.approx([0.0])


def test_recall_normalised_by_min_k_targets() -> None:
    ranked, targets = arrays([4, 1, 6, 8]), arrays([1, 8, 9])
    assert recall_at_k(ranked, targets, 2) == pytest.approx([0.5])  # 1 hit / min(2, 3)
    assert recall_at_k(ranked, targets, 4) == pytest.approx([2 / 3])  # 2 hits / min(4, 3)


def test_hit_rate() -> None:
    ranked = arrays([1, 2, 3], [4, 5, 6])
    targets = arrays([3], [9])
    assert hit_rate_at_k(ranked, targets, 3).tolist() == [1.0, 0.0]
    assert hit_rate_at_k(ranked, targets, 2).tolist() == [0.0, 0.0]


def test_user_without_targets_scores_zero() -> None:
    ranked, targets = arrays([1, 2]), arrays([])
    assert ndcg_at_k(ranked, targets, 2).tolist() == [0.0]
    assert recall_at_k(ranked, targets, 2).tolist() == [0.0]


def test_catalog_coverage() -> None:
    ranked = arrays([0, 1], [1, 2])
    assert catalog_coverage(ranked, 10, 2) == pytest.approx(0.3)
    assert catalog_coverage(ranked, 10, 1) == pytest.approx(0.2)
    assert catalog_coverage([], 10, 1) == 0.0


def test_coverage_summary_is_seeded() -> None:
    ranked = arrays([0, 1], [1, 2], [5, 6], [7, 8])
    first, second = coverage_summary(ranked, 10, 2, seed=3), coverage_summary(ranked, 10, 2, seed=3)
    assert first == second
    assert first.mean == pytest.approx(0.7)
    assert first.sem > 0


def test_summarize_mean_and_standard_error() -> None:
    summary = summarize([1.0, 0.0, 1.0, 0.0])
    # std with ddof=1 is sqrt(1/3); s.e. = std / sqrt(4)
    assert (summary.mean, summary.n) == (0.5, 4)
    assert summary.sem == pytest.approx(math.sqrt(1 / 3) / 2)
    assert summarize([0.25]) == Summary(0.25, 0.0, 1)
    assert summarize([]).n == 0
    assert f"{Summary(0.5, 0.125, 4):.3f}" == "0.500 ± 0.125"


def test_evaluate_rankings_has_every_column() -> None:
    ranked = arrays(list(range(100)), list(range(100, 200)))
    targets = arrays([0, 150], [300])
    scores = evaluate_rankings(ranked, targets, n_items=400)
    assert list(scores) == ["NDCG@100", "Recall@20", "Recall@50", "NDCG@10", "HR@10", "Coverage@10"]
    assert scores["HR@10"].mean == pytest.approx(0.5)
    assert scores["Recall@20"].mean == pytest.approx(0.25)  # (1/2 + 0/1) / 2
    assert scores["Coverage@10"].mean == pytest.approx(20 / 400)
