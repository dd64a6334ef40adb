"""Serving-time ranking: exclusion, masks, pagination, diversity, ties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from recoapi.engine.base import PropertyColumn
from recoapi.engine.ranking import rank_profile, rank_profiles, rank_similar, top_k
from recoapi.errors import WrongData

N = 12


class FixedScores:
    """A stand-in model whose scores are fixed: item ``i`` scores ``base[i]``."""

    def __init__(self, base: np.ndarray) -> None:
        self.base = base.astype(np.float32)
        self.n_items = base.size

    def score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.base, (profiles.shape[0], 1))

    def similar_items(self, item: int) -> np.ndarray:
        return self.base.copy()

    def save(self, path: str) -> None:
        raise NotImplementedError

    def with_items(self, n_items: int, columns: Any) -> FixedScores:
        return self


@dataclass
class Diversity:
    property_name: str
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    op: str = "diversity"


def descending() -> FixedScores:
    return FixedScores(np.arange(N, 0, -1, dtype=np.float32))  # item 0 is best


def row(*items: int) -> sp.csr_matrix:
    data = np.ones(len(items), np.float32)
    return sp.csr_matrix((data, ([0] * len(items), list(items))), shape=(1, N))


def test_top_k_breaks_ties_by_index_whatever_k_is() -> None:
    scores = np.array([1.0, 2.0, 2.0, 2.0, 0.5])
    assert top_k(scores, None, 2).tolist() == [1, 2]
    assert top_k(scores, None, 4).tolist() == [1, 2, 3, 0]
    assert top_k(scores, None, 10).tolist() == [1, 2, 3, 0, 4]


def test_top_k_ignores_nan_and_invalid_items() -> None:
    scores = np.array([np.nan, 3.0, 2.0, 1.0])
    valid = np.array([True, False, True, True])
    assert top_k(scores, valid, 3).tolist() == [2, 3, 0]


def test_exclude_removes_the_rated_items() -> None:
    got = rank_profile(descending(), row(0, 2), amt=3, exclude=row(0, 2))
    assert got.tolist() == [1, 3, 4]


def test_low_rated_items_never_come_back_even_without_exclusion() -> None:
    got = rank_profile(descending(), row(0, 1), amt=3, always_exclude=np.array([1]))
    assert got.tolist() == [0, 2, 3]


def test_exclude_accepts_boolean_and_index_arrays() -> None:
    mask = np.zeros(N, dtype=bool)
    mask[[0, 1]] = True
    assert rank_profile(descending(), row(0), amt=2, exclude=mask).tolist() == [2, 3]
    assert rank_profile(descending(), row(0), amt=2, exclude=np.array([0, 3])).tolist() == [1, 2]


def test_pages_continue_the_same_ranking_without_repeats() -> None:
    model = FixedScores(np.array([5, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 1], np.float32))
    whole = rank_profile(model, row(0), amt=N)
    pages = [rank_profile(model, row(0), amt=4, offset=o) for o in (0, 4, 8, 12)]
    assert np.concatenate(pages).tolist() == whole.tolist()
    assert len(set(whole.tolist())) == N
    assert pages[-1].size == 0


def test_candidate_mask_is_respected_and_fewer_items_come_back() -> None:
    mask = np.zeros(N, dtype=bool)
    mask[[3, 7, 9]] = True
    got = rank_profile(descending(), row(0), amt=5, candidate_mask=mask, exclude=row(7))
    assert got.tolist() == [3, 9]


def test_candidate_mask_of_the_wrong_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="candidate_mask"):
        rank_profile(descending(), row(0), amt=5, candidate_mask=np.ones(3, dtype=bool))


def test_batch_rows_get_their_own_exclusions() -> None:
    profiles = sp.vstack([row(0), row(1)]).tocsr()
    got = rank_profiles(descending(), profiles, amt=2, exclude=profiles)
    assert [g.tolist() for g in got] == [[1, 2], [0, 2]]


def test_similar_items_never_include_the_item_itself() -> None:
    assert rank_similar(descending(), 0, amt=3).tolist() == [1, 2, 3]
    assert rank_similar(descending(), 1, amt=2, offset=1).tolist() == [2, 3]
    with pytest.raises(IndexError):
        rank_similar(descending(), N, amt=3)


GENRES = PropertyColumn(
    "genres", "unicode18", True, [["a"], ["a"], ["a"], ["b"], ["b"], ["c"]] + [[]] * (N - 6)
)


def test_diversity_spreads_the_top_over_property_values() -> None:
    rerank = [Diversity("genres", weight=1.0)]
    plain = rank_profile(descending(), row(11), amt=3)
    diverse = rank_profile(
        descending(), row(11), amt=3, rerank=rerank, item_properties={"genres": GENRES}
    )
    assert plain.tolist() == [0, 1, 2]
    assert diverse.tolist() == [0, 3, 5]


def test_diversity_weight_zero_changes_nothing_and_pages_stay_consistent() -> None:
    props = {"genres": GENRES}
    zero = rank_profile(
        descending(), row(11), amt=5, rerank=[Diversity("genres", 0.0)], item_properties=props
    )
    assert zero.tolist() == [0, 1, 2, 3, 4]
    rerank = [Diversity("genres", 2.0, {"activation_period": 2})]
    whole = rank_profile(descending(), row(11), amt=8, rerank=rerank, item_properties=props)
    pages = [
        rank_profile(descending(), row(11), amt=4, offset=o, rerank=rerank, item_properties=props)
        for o in (0, 4)
    ]
    assert np.concatenate(pages).tolist() == whole.tolist()


def test_diversity_on_an_unknown_property_or_operation_is_wrong_data() -> None:
    with pytest.raises(WrongData, match="unknown item property"):
        rank_profile(
            descending(), row(0), amt=3, rerank=[Diversity("nope")], item_properties=[GENRES]
        )
    with pytest.raises(WrongData, match="not supported"):
        rank_profile(
            descending(),
            row(0),
            amt=3,
            rerank=[Diversity("genres", op="boost")],
            item_properties=[GENRES],
        )
