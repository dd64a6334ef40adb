"""Databases of an organization, and what deleting one removes."""

from __future__ import annotations

import dataclasses

import pytest
from storekit import DB_ERRORS, fill, new_db, snapshot

from recoapi.store.base import Store


def test_create_get_find_update(store: Store) -> None:
    org, other = store.create_organization("a.com"), store.create_organization("b.com")
    made = new_db(
        store,
        org,
        name="movies",
        description="d",
        user_id_type="hex16",
        core_config={"a": 1},
        metadata={"team": "x"},
    )
    assert made.n > 0 and made.created > 0
    assert (made.name, made.user_id_type, made.core_config) == ("movies", "hex16", {"a": 1})
    assert store.get_database(made.id) == store.find_database(org, "movies") == made
    assert store.find_database(other, "movies") is None and store.get_database("nope") is None
    with pytest.raises(DB_ERRORS):  # names are unique in an organization
        new_db(store, org, name="movies")
    new_db(store, other, name="movies")  # but not across organizations

    store.update_database(made.id, description="new", metadata={"team": "y", "n": [1, 2.5]})
    expected = dataclasses.replace(made, description="new", metadata={"team": "y", "n": [1, 2.5]})
    assert store.get_database(made.id) == expected


def test_list_pages_in_creation_order(store: Store) -> None:
    org, other = store.create_organization("a.com"), store.create_organization("b.com")
    names = [new_db(store, org, name=f"db{i}").name for i in range(5)]
    new_db(store, other)
    assert [d.name for d in store.list_databases(org, 0, 3)] == names[:3]
    assert [d.name for d in store.list_databases(org, 3, 3)] == names[3:]
    assert store.list_databases(org, 5, 3) == []


def test_delete_removes_all_its_data(store: Store) -> None:
    org = store.create_organization("example.com")
    doomed, kept = new_db(store, org), new_db(store, org)
    fill(store, doomed.n)
    fill(store, kept.n)
    before = snapshot(store, kept.n)
    assert snapshot(store, doomed.n)["counters"] == before["counters"] != {}
    store.delete_database(doomed.id)
    assert store.get_database(doomed.id) is None
    assert store.find_database(org, doomed.name) is None
    assert snapshot(store, doomed.n) == snapshot(store, new_db(store, org).n)  # all empty
    assert snapshot(store, kept.n) == before
    store.delete_database(doomed.id)  # again: nothing to do
