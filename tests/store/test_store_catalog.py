"""Property declarations, dense-index vocabularies and entity documents."""

from __future__ import annotations

import numpy as np
import pytest
from storekit import DB_ERRORS, Place, events, keys, new_db, ratings

from recoapi.store.base import DatabaseRecord, Store


def test_properties(store: Store, db: DatabaseRecord) -> None:
    n = db.n
    store.create_property(n, "item", "year", "int16", False, False)
    store.create_property(n, "item", "genres", "unicode8", True, True)
    store.create_property(n, "user", "age", "uint8", False, False)
    assert store.list_properties(n, "item") == [
        ("genres", "unicode8", True, True),
        ("year", "int16", False, False),
    ]
    with pytest.raises(DB_ERRORS):
        store.create_property(n, "item", "year", "int32", False, False)
    store.write_entities(
        n, "item", [1, 2], [{"year": 1999, "genres": ["a"]}, {"genres": ["b"]}], replace=True
    )
    store.delete_property(n, "item", "genres")  # its values go too
    assert store.list_properties(n, "item") == [("year", "int16", False, False)]
    assert store.all_entity_props(n, "item") == {0: {"year": 1999}, 1: {}}
    assert store.list_properties(n, "user") == [("age", "uint8", False, False)]


def test_indices_are_dense_stable_and_idempotent(place: Place, store: Store) -> None:
    db, other = new_db(store), new_db(store)
    assert store.ensure_indices(db.n, "item", keys(30, 10, 30, 20)).tolist() == [0, 1, 0, 2]
    assert store.ensure_indices(db.n, "item", keys(20, 40)).tolist() == [2, 3]
    assert store.ensure_indices(db.n, "item", keys(40, 10)).tolist() == [3, 1]
    assert store.vocab(db.n, "item").keys == [30, 10, 20, 40]
    assert len(store.vocab(db.n, "user")) == 0  # one vocabulary per entity kind
    assert store.ensure_indices(other.n, "item", keys(40)).tolist() == [0]  # and per database
    again = place.open()
    assert again.vocab(db.n, "item").keys == [30, 10, 20, 40]
    again.close()


@pytest.mark.parametrize(
    "ids",
    [[1, -(2**63), 2**63 - 1], ["b", "a", "é"], [b"\x00\xff", b"a", b"a\x00"]],
    ids=["int", "str", "bytes"],
)
def test_every_key_type_round_trips(place: Place, store: Store, ids: list[object]) -> None:
    db = new_db(store)
    assert store.ensure_indices(db.n, "user", keys(*ids)).tolist() == [0, 1, 2]
    store.insert_interactions(db.n, "session", events(ids, [1, 1, 1], ["view"] * 3))
    again = place.open()
    assert again.vocab(db.n, "user").keys == ids
    assert again.all_interactions(db.n, "session").subject.tolist() == ids
    again.close()


def test_replace_and_merge(store: Store, db: DatabaseRecord) -> None:
    n = db.n
    indices = store.write_entities(n, "item", [7, 8], [{"a": 1, "b": [1]}, {"a": 2}], replace=True)
    assert indices.tolist() == [0, 1]
    store.write_entities(n, "item", [7], [{"b": [2], "c": "x"}], replace=False)  # keeps a
    store.write_entities(n, "item", [8], [{"c": "y"}], replace=True)  # drops a
    assert store.get_entities(n, "item", np.array([0, 1, -1])) == {
        0: {"a": 1, "b": [2], "c": "x"},
        1: {"c": "y"},
    }
    store.write_entities(n, "item", [9, 9], [{"a": 1}, {"b": 2}], replace=False)  # row by row
    store.write_entities(n, "item", [5, 5], [{"a": 1}, {"b": 2}], replace=True)
    assert store.get_entities(n, "item", np.array([2, 3])) == {2: {"a": 1, "b": 2}, 3: {"b": 2}}


def test_entities_known_from_feedback_only_have_no_document(
    store: Store, db: DatabaseRecord
) -> None:
    ratings(store, db.n, [(1, 10, 5.0, 1.0)])
    assert store.get_entities(db.n, "item", np.array([0])) == {}
    assert store.all_entity_props(db.n, "item") == {}
    store.write_entities(db.n, "item", [10], [{"a": 3}], replace=False)  # merge creates it
    assert store.get_entities(db.n, "item", np.array([0])) == {0: {"a": 3}}


def test_paging_skips_entities_without_document(store: Store, db: DatabaseRecord) -> None:
    n = db.n
    store.write_entities(
        n, "item", list(range(1, 8)), [{"i": i} for i in range(1, 8)], replace=True
    )
    store.ensure_indices(n, "item", keys(100))  # index 7, no document
    store.clear_entities(n, "item", np.array([2, 5, -1]))  # -1: an unknown id
    found, after = [], -1
    while page := store.page_entities(n, "item", after, 2):
        found += page
        after = page[-1][0]
    assert [index for index, _ in found] == [0, 1, 3, 4, 6]
    assert found[2] == (3, {"i": 4})
    assert store.all_entity_props(n, "item") == dict(found)
    assert len(store.vocab(n, "item")) == 8  # clearing keeps the indices
    assert store.counters(n)["item"] == 8


def test_clearing_a_user_with_everything_removes_its_feedback(
    store: Store, db: DatabaseRecord
) -> None:
    n = db.n
    store.write_entities(n, "user", [1, 2], [{"age": 30}, {"age": 40}], replace=True)
    ratings(store, n, [(1, 10, 5.0, 1.0), (2, 10, 6.0, 1.0)])
    store.insert_interactions(n, "user", events([1, 2], [10, 10], ["view", "view"]))
    store.clear_entities(n, "user", np.array([0]), everything=True)
    assert store.get_entities(n, "user", np.array([0, 1])) == {1: {"age": 40}}
    assert store.all_ratings(n).user.tolist() == [1]
    assert store.all_interactions(n, "user").subject.tolist() == [1]
    store.clear_entities(n, "item", np.array([0]), everything=True)  # items keep feedback
    assert len(store.all_ratings(n)) == 1


def test_bulk_of_thousands(store: Store, db: DatabaseRecord) -> None:
    ids = list(range(1, 5001))
    indices = store.write_entities(
        db.n, "item", ids, [{"n": i, "tags": [str(i)]} for i in ids], replace=True
    )
    assert indices.tolist() == list(range(5000))
    store.write_entities(db.n, "item", ids[::2], [{"odd": True}] * 2500, replace=False)
    props = store.all_entity_props(db.n, "item")
    assert props[0] == {"n": 1, "tags": ["1"], "odd": True} and props[1] == {"n": 2, "tags": ["2"]}
    assert store.counters(db.n)["item"] == 5000
