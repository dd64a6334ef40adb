"""Databases of an organization through the reference client (§9.3)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from apikit import SERIALIZERS, call, expect_error, root, token_of, wire, xminds_error
from xminds.api import exceptions as xerr

from server import ServerProcess, store_rows

TABLES = (
    "ratings",
    "interactions",
    "entities",
    "properties",
    "resolved_sessions",
    "tasks",
    "models",
    "scenarios",
)


def unique(prefix: str = "db") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rows_of(server: ServerProcess, db_id: str) -> dict[str, int]:
    """Rows each table still holds for a database (read from the store itself)."""
    found = store_rows(server.data_dir, "SELECT n FROM databases WHERE id = ?", (db_id,))
    assert found
    return {
        t: store_rows(server.data_dir, f"SELECT COUNT(*) FROM {t} WHERE dbn = ?", found[0])[0][0]
        for t in TABLES
    }


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_create_get_and_status(server: ServerProcess, serializer: str) -> None:
    org = root(server.url).org(serializer)
    name = unique()
    created = org.create_database(name, "described", "uint64", "hex16", metadata={"team": "a"})
    assert isinstance(created["id"], str)
    with xminds_error(xerr.DuplicatedError):
        org.create_database(name, "again", "uint32", "uint32")
    client = root(server.url).client(serializer, created["id"])
    db = client.get_database()
    assert db["id"] == created["id"] and db["name"] == name and db["description"] == "described"
    assert (db["item_id_type"], db["user_id_type"], db["session_id_type"]) == (
        "uint64",
        "hex16",
        "uuid",
    )
    assert db["counters"]["rating"] == db["counters"]["item"] == db["counters"]["user"] == 0
    assert db["metadata"] == {"team": "a"} and db["core_config"] == {}
    assert client.status() == {"status": "pending"}


def test_invalid_creations_are_code_40(server: ServerProcess) -> None:
    org = root(server.url).org("pkl")
    for item_type in ("uint128", "hex65", "bytes0", "string", ""):
        with xminds_error(xerr.WrongData):
            org.create_database(unique(), "d", item_type, "uint32")
    with xminds_error(xerr.WrongData):
        org.create_database(unique(), "d", "uint32", "uint32", session_id_type="float32")
    with xminds_error(xerr.WrongData):
        org.create_database("   ", "d", "uint32", "uint32")
    expect_error(
        call(server.url, "POST", "databases/", token_of(org), body={"name": unique()}), 400, 40
    )


def test_counters_follow_the_data(server: ServerProcess) -> None:
    client = root(server.url).database("pkl")
    client.create_item_property("year", "int16")
    items = np.array([(1, 1990), (2, 1991), (3, 1992)], dtype=[("item_id", "<u4"), ("year", "<i2")])
    client.create_or_replace_items_bulk(items)
    client.create_or_replace_user({"user_id": 50})
    ratings = np.array(
        [(50, 1, 5.0, 1e9), (51, 2, 6.0, 1e9), (52, 4, 7.0, 1e9)],
        dtype=[("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")],
    )
    client.create_or_update_ratings_bulk(ratings)
    counters = client.get_database()["counters"]
    assert counters["rating"] == 3
    assert counters["item"] >= 3 and counters["user"] >= 1


def test_list_is_paginated(server: ServerProcess) -> None:
    org = root(server.url).org("json")
    mine = {org.create_database(unique("page"), "d", "uint32", "uint32")["id"] for _ in range(3)}
    first = org.get_all_databases(amt=1, page=1)
    assert len(first["databases"]) == 1 and first["has_next"] is True and first["next_page"] == 2
    second = org.get_all_databases(amt=1, page=2)
    assert second["databases"][0]["id"] != first["databases"][0]["id"]
    seen, page = [], 1
    while page:
        answer = org.get_all_databases(amt=2, page=page)
        assert len(answer["databases"]) <= 2
        seen += [d["id"] for d in answer["databases"]]
        page = answer["next_page"] if answer["has_next"] else None
    assert mine <= set(seen) and len(seen) == len(set(seen))
    assert set(answer["databases"][0]) >= {
        "id",
        "name",
        "description",
        "item_id_type",
        "user_id_type",
        "session_id_type",
    }
    for amt in (0, 65, "x"):
        with xminds_error(xerr.WrongData):
            org.get_all_databases(amt=amt)


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_partial_update_and_preview_merge_metadata(server: ServerProcess, serializer: str) -> None:
    client = root(server.url).database(
        serializer, metadata={"keep": 1, "nested": {"x": 1, "y": 2}, "tags": ["a"]}
    )
    preview = client.partial_update_database_preview(
        description="new", metadata={"nested": {"y": None, "z": 3}, "tags": ["b"]}
    )
    assert preview["metadata_old"]["metadata"] == {
        "keep": 1,
        "nested": {"x": 1, "y": 2},
        "tags": ["a"],
    }
    assert preview["metadata_new"] == {
        "description": "new",
        "core_config": {},
        "metadata": {"keep": 1, "nested": {"x": 1, "z": 3}, "tags": ["b"]},
    }
    assert client.get_database()["description"] == "api test"  # a preview writes nothing
    client.partial_update_database(metadata={"tags": ["b"]}, preserve=True)
    client.partial_update_database(description="new", metadata={"nested": {"y": None}})
    client.partial_update_database()  # an empty body is a no-op
    db = client.get_database()
    assert db["description"] == "new"
    assert db["metadata"] == {"keep": 1, "nested": {"x": 1}, "tags": ["a", "b"]}
    with xminds_error(xerr.WrongData):
        client.partial_update_database(metadata="not an object")


def test_delete_removes_every_row(server: ServerProcess) -> None:
    client = root(server.url).database("pkl")
    db = client.get_database()
    client.create_item_property("genres", "unicode8", repeated=True)
    client.create_user_property("age", "uint8")
    client.create_or_replace_item({"item_id": 1, "genres": ["a", "b"]})
    client.create_or_replace_user({"user_id": 7, "age": 30})
    ratings = np.array(
        [(7, 1, 5.0, 1e9), (8, 2, 6.0, 1e9)],
        dtype=[("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")],
    )
    client.create_or_update_ratings_bulk(wire(ratings, "pkl"))
    client.create_interaction(7, 2, "click", timestamp=1e9)
    session = str(uuid.uuid4())
    client.create_session_interaction(session, 1, "view", timestamp=1e9)
    client.resolve_session(7, session)
    assert all(
        rows_of(server, db["id"])[t] > 0
        for t in ("ratings", "interactions", "entities", "properties", "resolved_sessions")
    )
    stale = token_of(client)
    client.delete_database()
    assert store_rows(server.data_dir, "SELECT n FROM databases WHERE id = ?", (db["id"],)) == []
    orphans = {
        t: store_rows(
            server.data_dir, f"SELECT COUNT(*) FROM {t} WHERE dbn NOT IN (SELECT n FROM databases)"
        )[0][0]
        for t in TABLES
    }
    assert orphans == dict.fromkeys(TABLES, 0)
    expect_error(call(server.url, "GET", "databases/current/", stale), 404, 60)
    expect_error(call(server.url, "GET", "items/1/properties/", stale), 404, 60)
    expect_error(
        call(server.url, "PUT", "users/7/ratings/1/", stale, body={"rating": 5.0}), 404, 60
    )
    with xminds_error(xerr.RefreshTokenExpired):  # its refresh token is spent: log in again
        client.login_refresh_token()
    org = root(server.url).org("json")
    again = org.create_database(
        db["name"], "same name, new data", "uint32", "uint32"
    )  # the name is free
    fresh = root(server.url).client("json", again["id"])
    assert set(fresh.get_database()["counters"].values()) == {0}
    assert fresh.list_item_properties()["properties"] == []
