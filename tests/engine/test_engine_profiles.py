from __future__ import annotations

import numpy as np
import pytest

from recoapi.engine.profiles import (
    ProfileWeighting,
    build_low_rated,
    build_profiles,
    interaction_weights,
    rating_weights,
)
from recoapi.errors import WrongData


def test_rating_weights_interpolate_between_anchors() -> None:
    w = ProfileWeighting(rating_points=((2.0, -0.5), (4.0, -0.5), (6.0, 0.3), (8.0, 1.0)))
    got = rating_weights(np.array([1, 2, 3, 5, 6, 7, 8, 10]), w)
    np.testing.assert_allclose(got, [-0.5, -0.5, -0.5, -0.1, 0.3, 0.65, 1.0, 1.0], atol=1e-6)


def test_default_weights_grow_with_the_rating_and_stay_positive() -> None:
    got = rating_weights(np.arange(1, 11))
    assert np.all(np.diff(got) >= 0)
    assert got[0] > 0 and got[-1] == pytest.approx(1.0)


def test_interaction_types_are_matched_loosely_and_unknown_ones_get_a_small_weight() -> None:
    got = interaction_weights(["productView", "product_view", "PURCHASE", "add-to-cart", "zzz"])
    assert got[0] == got[1] < got[3] < got[2]
    assert 0 < got[4] < got[2]


def test_last_rating_of_a_pair_wins() -> None:
    m = build_profiles(3, [0, 0, 0], [1, 2, 1], ratings=[10, 8, 2], n_rows=1)
    assert m.shape == (1, 3)
    assert m[0, 1] == pytest.approx(rating_weights(np.array([2.0]))[0])
    assert m[0, 2] == pytest.approx(1.0)


def test_interactions_add_up_to_the_cap_and_a_rating_overrides_them() -> None:
    w = ProfileWeighting(interaction_cap=1.0)
    m = build_profiles(
        4,
        [0, 0, 0, 0, 0, 0],
        [1, 1, 2, 2, 2, 3],
        ratings=[np.nan, np.nan, np.nan, np.nan, np.nan, 9.0],
        interaction_types=["click", "click", "purchase", "purchase", "like", None],
        weighting=w,
    )
    click = interaction_weights(["click"])[0]
    assert m[0, 1] == pytest.approx(2 * click)
    assert m[0, 2] == pytest.approx(1.0)
    assert m[0, 3] == pytest.approx(1.0)

    both = build_profiles(2, [0, 0], [1, 1], ratings=[np.nan, 2.0], interaction_types=["buy", None])
    assert both[0, 1] == pytest.approx(rating_weights(np.array([2.0]))[0])


def test_empty_rows_are_kept() -> None:
    m = build_profiles(5, [2], [4], ratings=[10], n_rows=4)
    assert m.shape == (4, 5)
    assert list(np.diff(m.indptr)) == [0, 0, 1, 0]


def test_bad_input_is_rejected_with_a_clear_error() -> None:
    with pytest.raises(WrongData, match="item indices"):
        build_profiles(3, [0], [3], ratings=[5])
    with pytest.raises(WrongData, match="one entry per event"):
        build_profiles(3, [0, 0], [1, 2], ratings=[5])
    with pytest.raises(WrongData, match="ratings and/or"):
        build_profiles(3, [0], [1])


def test_low_rated_uses_the_last_rating() -> None:
    m = build_low_rated(4, [0, 0, 0, 1], [1, 2, 2, 3], [2, 3, 9, 4], n_rows=2)
    assert m.dtype == bool
    assert m.toarray().tolist() == [[False, True, False, False], [False, False, False, True]]


def test_weighting_round_trips_through_a_dict() -> None:
    w = ProfileWeighting(unknown_interaction_weight=0.3, low_rating_threshold=3.0)
    assert ProfileWeighting.from_dict(w.to_dict()) == w
