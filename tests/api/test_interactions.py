"""Interactions, anonymous sessions and their resolution (§9.7)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from apikit import SERIALIZERS, call, expect_error, root, rows, token_of, wire, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ServerProcess

EVENTS = [
    ("user_id", "<u4"),
    ("item_id", "<u4"),
    ("interaction_type", "<U16"),
    ("timestamp", "<f8"),
]
SESSION_EVENTS = [
    ("session_id", "<U36"),
    ("item_id", "<u4"),
    ("interaction_type", "<U16"),
    ("timestamp", "<f8"),
]
ITEM_EVENTS = [("item_id", "<u4"), ("interaction_type", "<U16"), ("timestamp", "<f8")]
S1, S2 = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))


@pytest.fixture(params=SERIALIZERS)
def db(server: ServerProcess, request: pytest.FixtureRequest) -> CrossingMindsApiClient:
    return root(server.url).database(request.param)


def fmt(client: CrossingMindsApiClient) -> str:
    return "json" if client.b64_encode_bytes else "pkl"


def listing(fetch: Any, **options: Any) -> list[dict[str, Any]]:
    """Every row of a cursor listing, two at a time."""
    found, cursor = [], None
    while True:
        page = fetch(amt=2, cursor=cursor, **options)
        assert len(page["interactions"]) <= 2
        found += rows(page["interactions"])
        if not page["has_next"]:
            return found
        cursor = page["next_cursor"]


def test_user_interactions(db: CrossingMindsApiClient) -> None:
    serializer = fmt(db)
    reply = db.create_interaction(
        1, 10, "productView", timestamp=1.0e9, properties={"price": 9.5, "via": "ad"}
    )
    assert isinstance(reply, dict)
    db.create_interaction(1, 11, "addToCart")
    mine = np.array([(12, "like", 1.1e9), (13, "productView", 1.2e9)], dtype=ITEM_EVENTS)
    assert isinstance(db.create_user_interactions_bulk(1, wire(mine, serializer)), dict)
    many = np.array(
        [(2, 10, "like", 1.3e9), (3, 11, "buy", 1.4e9), (2, 12, "like", 1.5e9)], dtype=EVENTS
    )
    assert isinstance(db.create_interactions_bulk(wire(many, serializer)), dict)
    found = listing(db.list_interactions)
    assert len(found) == 7
    first = found[0]
    assert (
        int(first["user_id"]),
        int(first["item_id"]),
        first["interaction_type"],
        first["timestamp"],
    ) == (1, 10, "productView", 1.0e9)
    assert first["properties"] == {"price": 9.5, "via": "ad"}
    user_one = listing(db.list_user_interactions, user_id=1)
    assert [int(r["item_id"]) for r in user_one] == [10, 11, 12, 13] and "user_id" not in user_one[
        0
    ]
    views = db.list_user_interactions(1, interaction_types=["productView"])["interactions"]
    assert [int(r["item_id"]) for r in rows(views)] == [10, 13]
    window = listing(db.list_interactions, start_timestamp=1.15e9, end_timestamp=1.45e9)
    assert sorted(int(r["item_id"]) for r in window) == [10, 11, 13]
    for start, end in ((1.5e9, 1.2e9), (1.2e9, 1.2e9)):
        with xminds_error(xerr.WrongData):
            db.list_interactions(start_timestamp=start, end_timestamp=end)
    with xminds_error(xerr.WrongData):
        db.list_interactions(start_timestamp="soon")
    with xminds_error(xerr.NotFoundError):
        db.list_user_interactions(404)


def test_session_interactions_and_resolution(db: CrossingMindsApiClient) -> None:
    serializer = fmt(db)
    db.create_session_interaction(S1, 10, "productView", timestamp=1.0e9)
    bulk = np.array([(S1, 11, "like", 1.1e9), (S2, 12, "buy", 1.2e9)], dtype=SESSION_EVENTS)
    assert isinstance(db.create_sessions_interactions_bulk(wire(bulk, serializer)), dict)
    mine = np.array([(13, "like", 1.3e9)], dtype=ITEM_EVENTS)
    db.create_session_interactions_bulk(S2, wire(mine, serializer))
    found = listing(db.list_sessions_interactions)
    assert [(r["session_id"], int(r["item_id"])) for r in found] == [
        (S1, 10),
        (S1, 11),
        (S2, 12),
        (S2, 13),
    ]
    assert [int(r["item_id"]) for r in listing(db.list_session_interactions, session_id=S2)] == [
        12,
        13,
    ]
    db.resolve_session(5, S1, timestamp=1.5e9)
    db.resolve_session(5, S2)
    db.resolve_session(6, str(uuid.UUID(int=3)))
    resolved = db.list_resolved_sessions_by_users([5])["resolved_sessions"]
    assert sorted(r["session_id"] for r in rows(resolved)) == [S1, S2]
    everyone = db.list_resolved_sessions_by_users()
    assert len(everyone["resolved_sessions"]) == 3
    first = db.list_resolved_sessions_by_users(amt=2)
    assert first["has_next"] and len(first["resolved_sessions"]) == 2
    rest = db.list_resolved_sessions_by_users(amt=2, cursor=first["next_cursor"])
    assert len(rest["resolved_sessions"]) == 1 and not rest["has_next"]
    with xminds_error(xerr.WrongData):
        db.create_session_interaction("not-a-uuid", 10, "view")


BAD_EVENTS = [  # (field, value) put into the last row
    ("interaction_type", ""),
    ("interaction_type", "x" * 65),
    ("interaction_type", 5),
    ("timestamp", 1e12),
    ("timestamp", "now"),
    ("item_id", 0),
    ("user_id", -1),
    ("properties", "not an object"),
]


def test_bad_events_are_refused_whole(server: ServerProcess, db: CrossingMindsApiClient) -> None:
    serializer, token = fmt(db), token_of(db)
    good = {"user_id": 1, "item_id": 1, "interaction_type": "like", "timestamp": 1e9}
    for field, value in BAD_EVENTS:
        body = expect_error(
            call(
                server.url,
                "POST",
                "interactions-bulk/",
                token,
                fmt=serializer,
                body={"interactions": [good, good | {"item_id": 2}, good | {field: value}]},
            ),
            400,
            40,
        )
        assert "interactions" in body["message"], body["message"]
    expect_error(
        call(
            server.url,
            "POST",
            "interactions-bulk/",
            token,
            fmt=serializer,
            body={"interactions": [{"user_id": 1, "item_id": 1}]},
        ),
        400,
        40,
    )
    with xminds_error(xerr.WrongData):
        db.create_interaction(1, 1, "")
    with xminds_error(xerr.WrongData):
        db.create_interaction(1, 1, "like", timestamp=-2e11)
    with xminds_error(xerr.WrongData):
        db.create_session_interaction(S1, 1, "like", properties="no")
    assert listing(db.list_interactions) == [] and listing(db.list_sessions_interactions) == []
    assert db.get_database()["counters"]["rating"] == 0


def test_retried_chunk_is_stored_once(db: CrossingMindsApiClient) -> None:
    chunk = wire(np.array([(1, 10, "like", 1.1e9), (2, 10, "buy", 1.2e9)], dtype=EVENTS), fmt(db))
    db.create_interactions_bulk(chunk)
    first = listing(db.list_interactions)
    db.create_interactions_bulk(chunk)
    assert listing(db.list_interactions) == first and len(first) == 2
    sessions = wire(np.array([(S1, 10, "view", 1.0e9)], dtype=SESSION_EVENTS), fmt(db))
    db.create_sessions_interactions_bulk(sessions)
    db.create_sessions_interactions_bulk(sessions)
    assert len(listing(db.list_sessions_interactions)) == 1
