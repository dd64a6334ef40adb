"""All or nothing: a failed write leaves no row and no cached index behind; acknowledged
writes survive closing and reopening; concurrent writers get distinct dense indices."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from storekit import DB_ERRORS, Place, events, fill, keys, new_db, ratings, snapshot

from recoapi.errors import WrongData
from recoapi.store.base import AccountRecord, DatabaseRecord, Store

NAN = float("nan")  # JSON cannot hold it: the failure comes after the new keys were added


def test_failed_writes_leave_nothing_behind(place: Place, store: Store, db: DatabaseRecord) -> None:
    n = db.n
    store.write_entities(n, "item", [1], [{"a": 1}], replace=True)
    with pytest.raises(ValueError):
        store.write_entities(n, "item", [2, 3], [{"a": 2}, {"a": NAN}], replace=True)
    with pytest.raises(ValueError):
        store.write_entities(n, "item", [1, 4], [{"a": 2}, {"a": NAN}], replace=False)
    with pytest.raises(ValueError):  # columns of different lengths
        store.upsert_ratings(
            n, keys(5, 6), keys(7, 8), np.array([1.0], np.float32), np.array([1.0, 2.0])
        )
    with pytest.raises(ValueError):
        store.insert_interactions(
            n, "user", events([5, 6], [7, 8], ["v", "v"], props=[{}, {"x": NAN}])
        )
    assert store.vocab(n, "item").keys == [1] and len(store.vocab(n, "user")) == 0
    assert store.counters(n) == {"rating": 0, "item": 1, "user": 0, "interaction": 0}
    assert store.all_entity_props(n, "item") == {0: {"a": 1}}
    assert store.ensure_indices(n, "item", keys(9)).tolist() == [1]  # no gap
    again = place.open()
    assert again.vocab(n, "item").keys == [1, 9]
    again.close()


def test_writes_to_a_deleted_database_are_refused(store: Store, db: DatabaseRecord) -> None:
    store.delete_database(db.id)  # a request that resolved it earlier may still write
    with pytest.raises(DB_ERRORS):
        ratings(store, db.n, [(1, 2, 5.0, 1.0)])
    with pytest.raises(DB_ERRORS):
        store.insert_interactions(db.n, "user", events([1], [2], ["view"]))
    with pytest.raises(DB_ERRORS):
        store.ensure_indices(db.n, "item", keys(3))
    assert store.counters(db.n) == {"rating": 0, "item": 0, "user": 0, "interaction": 0}
    assert len(store.vocab(db.n, "item")) == len(store.vocab(db.n, "user")) == 0


def test_nul_characters(store: Store, db: DatabaseRecord) -> None:
    """PostgreSQL text cannot hold NUL: refused whole as bad data (SQLite stores it)."""
    batch = events([5], [7], ["v\x00"], props=[{"s": "\x00"}])
    if store.name == "postgres":
        with pytest.raises(WrongData, match="NUL"):
            store.insert_interactions(db.n, "user", batch)
        assert len(store.vocab(db.n, "item")) == len(store.vocab(db.n, "user")) == 0
        assert store.counters(db.n)["item"] == 0
        batch = events([5], [7], ["v"], props=[{"s": "\x00"}])  # JSON escapes it: fine
    store.insert_interactions(db.n, "user", batch)
    assert store.all_interactions(db.n, "user").properties == [{"s": "\x00"}]


def test_a_failure_in_a_fresh_store_keeps_the_stored_keys(
    place: Place, store: Store, db: DatabaseRecord
) -> None:
    store.ensure_indices(db.n, "item", keys(1, 2))
    fresh = place.open()  # its vocabulary is first read inside the failing transaction
    with pytest.raises(ValueError):
        fresh.write_entities(db.n, "item", [3], [{"a": NAN}], replace=True)
    assert fresh.vocab(db.n, "item").keys == [1, 2]
    assert fresh.ensure_indices(db.n, "item", keys(3)).tolist() == [2]
    fresh.close()


def test_data_survives_closing_and_reopening(place: Place, store: Store) -> None:
    db = new_db(store, metadata={"m": [1, "x"]})
    fill(store, db.n)
    org = db.org_id
    store.create_account(AccountRecord("a1", org, "individual", "root", email="r@example.com"))
    before = snapshot(store, db.n)
    store.close()
    again = place.open()
    assert again.get_database(db.id) == db
    assert again.get_account("a1") == AccountRecord(
        "a1", org, "individual", "root", email="r@example.com"
    )
    assert snapshot(again, db.n) == before
    ratings(again, db.n, [(7, 1, 9.0, 9.0), (9, 9, 1.0, 9.0)])  # and it goes on from there
    assert again.vocab(db.n, "user").keys == [7, 8, 9]
    again.close()


def test_concurrent_writers(store: Store, db: DatabaseRecord) -> None:
    def write(worker: int) -> None:
        for j in range(15):
            ratings(store, db.n, [(worker * 100 + j, j % 5, 5.0, 1.0)])
            store.get_entities(db.n, "item", np.arange(5))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))
    users = store.vocab(db.n, "user")
    assert sorted(users.keys) == sorted(w * 100 + j for w in range(8) for j in range(15))
    assert sorted(store.all_ratings(db.n).user.tolist()) == list(range(120))
    assert store.counters(db.n) == {"rating": 120, "item": 5, "user": 120, "interaction": 0}
