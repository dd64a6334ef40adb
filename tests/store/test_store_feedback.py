"""Ratings, interactions and session resolution."""

from __future__ import annotations

from typing import Any

import numpy as np
from storekit import event_rows, events, rating_rows, ratings

from recoapi.store.base import DatabaseRecord, Store


def test_upsert_keeps_the_latest(store: Store, db: DatabaseRecord) -> None:
    first = ratings(store, db.n, [(1, 10, 5.0, 1.0), (1, 20, 6.0, 2.0), (2, 10, 7.0, 3.0)])
    assert (first.user.tolist(), first.item.tolist()) == ([0, 0, 1], [0, 1, 0])
    assert (first.rating.dtype, first.timestamp.dtype) == (np.float32, np.float64)
    ratings(store, db.n, [(1, 10, 8.0, 4.0), (1, 10, 9.0, 5.0)])  # in one call, the last wins
    assert rating_rows(store.all_ratings(db.n)) == [
        (0, 0, 9.0, 5.0),
        (0, 1, 6.0, 2.0),
        (1, 0, 7.0, 3.0),
    ]
    assert store.counters(db.n) == {"rating": 3, "item": 2, "user": 2, "interaction": 0}


def test_delete_and_per_user(store: Store, db: DatabaseRecord) -> None:
    ratings(store, db.n, [(1, 30, 5.0, 1.0), (1, 10, 6.0, 1.0), (2, 20, 7.0, 1.0)])
    assert store.user_ratings(db.n, 0).item.tolist() == [0, 1]  # in item index order
    assert store.delete_rating(db.n, 0, 1)
    assert not store.delete_rating(db.n, 0, 1)
    store.delete_user_ratings(db.n, 1)
    assert rating_rows(store.all_ratings(db.n)) == [(0, 0, 5.0, 1.0)]
    nobody = store.user_ratings(db.n, 99)
    assert len(nobody) == 0 and nobody.rating.dtype == np.float32


def test_pages_walk_in_user_item_order(store: Store, db: DatabaseRecord) -> None:
    rng = np.random.default_rng(7)
    rows = [(int(u), int(i), float(r), 1.0) for u, i, r in rng.integers(1, 40, (500, 3))]
    ratings(store, db.n, rows)
    walked, after = [], (-1, -1)
    while len(page := store.page_ratings(db.n, after, 64)):
        walked += rating_rows(page)
        after = (int(page.user[-1]), int(page.item[-1]))
    assert walked == rating_rows(store.all_ratings(db.n))
    assert len(walked) == len({(u, i) for u, i, _, _ in rows})


def test_a_big_bulk(store: Store, db: DatabaseRecord) -> None:
    users, items = np.arange(20_000) % 300 + 1, np.arange(20_000) // 300 + 1
    stored = store.upsert_ratings(
        db.n, users, items, np.full(20_000, 4.0, np.float32), np.arange(20_000, dtype=np.float64)
    )
    assert len(stored) == 20_000 and store.counters(db.n)["rating"] == 20_000
    assert len(store.user_ratings(db.n, int(stored.user[-1]))) == 67


def test_identical_events_are_kept_once(store: Store, db: DatabaseRecord) -> None:
    batch = events(
        [1, 1, 2],
        [10, 10, 10],
        ["view", "view", "buy"],
        [1.0, 1.0, 2.0],
        [None, {"p": 1}, {"price": 2.5, "tags": ["é"]}],
    )
    stored = store.insert_interactions(db.n, "user", batch)
    assert (stored.subject.tolist(), stored.item.tolist()) == ([0, 0, 1], [0, 0, 0])
    store.insert_interactions(db.n, "user", batch)  # a retried chunk changes nothing
    assert [row[:5] for row in event_rows(store.all_interactions(db.n, "user"))] == [
        (0, 0, "view", 1.0, None),
        (1, 0, "buy", 2.0, {"price": 2.5, "tags": ["é"]}),
    ]
    assert store.counters(db.n)["interaction"] == 2


def test_page_interactions_filters(store: Store, db: DatabaseRecord) -> None:
    users, types = [1, 2, 1, 2, 1, 2], ["view", "buy"] * 3
    store.insert_interactions(db.n, "user", events(users, [10] * 6, types, [1, 2, 3, 4, 5, 6]))
    walked, after = [], 0
    while len(page := store.page_interactions(db.n, "user", after=after, limit=2)):
        walked += event_rows(page)
        after = int(page.seq[-1])
    assert [row[3] for row in walked] == [1, 2, 3, 4, 5, 6]  # insertion order

    def times(**filters: Any) -> list[float]:
        found = store.page_interactions(db.n, "user", after=0, limit=100, **filters)
        return list(found.timestamp.tolist())

    assert times(subject_key=0) == [1, 3, 5]
    assert times(start=2.0, end=5.0) == [2, 3, 4]
    assert times(types=["buy"]) == [2, 4, 6]
    assert times(subject_key=1, start=3.0, types=["buy", "view"]) == [4, 6]
    assert times(types=["nothing"]) == []


def test_session_events_and_resolution(store: Store, db: DatabaseRecord) -> None:
    store.insert_interactions(db.n, "session", events(["s1", "s2", "s1"], [1, 2, 3], ["v"] * 3))
    found = store.page_interactions(db.n, "session", after=0, limit=10, subject_key="s1")
    assert found.subject.tolist() == ["s1", "s1"] and found.item.tolist() == [0, 2]
    assert len(store.all_interactions(db.n, "user")) == 0
    assert store.resolve_session(db.n, "s-b", 0, 1.0)
    assert not store.resolve_session(db.n, "s-b", 1, 2.0)  # bound again: moved
    assert store.resolve_session(db.n, "s-a", 0, 3.0)
    assert store.page_resolved_sessions(db.n, None, 0, 10) == [
        (1, "s-a", 0, 3.0),
        (2, "s-b", 1, 2.0),
    ]
    assert store.page_resolved_sessions(db.n, None, 1, 10) == [(2, "s-b", 1, 2.0)]
    assert store.page_resolved_sessions(db.n, np.array([0]), 0, 10) == [(1, "s-a", 0, 3.0)]
    assert store.page_resolved_sessions(db.n, np.array([], np.int64), 0, 10) == []


def test_int_sessions_sort_numerically(store: Store, db: DatabaseRecord) -> None:
    for session in (10, -5, 3, 2**62):
        store.resolve_session(db.n, session, 0, 1.0)
    found = store.page_resolved_sessions(db.n, None, 0, 10)
    assert [row[1] for row in found] == [-5, 3, 10, 2**62]
