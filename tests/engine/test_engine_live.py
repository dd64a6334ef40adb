"""``rank_events``: the one function behind user, session and evaluation rankings."""

from __future__ import annotations

import numpy as np
from enginekit import random_data

from recoapi.engine.live import rank_events
from recoapi.engine.profiles import build_profiles
from recoapi.engine.ranking import rank_profiles
from recoapi.engine.training import train


def test_rank_events_matches_the_batched_profile_path() -> None:
    data = random_data(n_users=60, n_items=40, n_ratings=900)
    model = train(data)
    rng = np.random.default_rng(3)
    for _ in range(10):
        items = rng.choice(40, 8, replace=False).astype(np.int64)
        ratings = rng.integers(1, 11, 8).astype(np.float64)
        profile = build_profiles(40, np.zeros(8, np.int64), items, ratings=ratings, n_rows=1)
        rated = profile.astype(bool)
        expected = rank_profiles(model, profile, amt=15, exclude=rated)[0]
        assert np.array_equal(rank_events(model, items, ratings, amt=15), expected)


def test_low_rated_items_never_come_back_even_when_rated_items_may() -> None:
    data = random_data(n_users=60, n_items=40, n_ratings=900)
    model = train(data)
    items = np.array([0, 1, 2, 3], np.int64)
    ratings = np.array([10.0, 9.0, 2.0, 4.0])
    ranked = rank_events(model, items, ratings, amt=40, exclude_rated=False)
    assert {0, 1} <= set(ranked.tolist())  # liked items may be shown again
    assert not {2, 3} & set(ranked.tolist())  # rated <= 4/10: never
    assert len(ranked) == 38
    excluded = rank_events(model, items, ratings, amt=40)
    assert not set(items.tolist()) & set(excluded.tolist()) and len(excluded) == 36


def test_items_unknown_to_the_model_are_ignored() -> None:
    model = train(random_data(n_users=30, n_items=20, n_ratings=300))
    items = np.array([1, 25, 3], np.int64)  # 25: added after the model was trained
    ranked = rank_events(model, items, np.array([9.0, 9.0, 8.0]), amt=5)
    assert len(ranked) == 5 and not {1, 3} & set(ranked.tolist())
