"""Ratings, interactions and sessions: structured arrays in and out, in both wire formats."""

from __future__ import annotations

import numpy as np
import pytest
from clientkit import RATINGS_DTYPE, as_dicts, block_ratings, connect

from recoapi.client import NotFoundError, WrongData
from server import ServerProcess

INTERACTIONS_DTYPE = [
    ("user_id", "<u4"),
    ("item_id", "<u4"),
    ("interaction_type", "<U16"),
    ("timestamp", "<f8"),
]


def test_ratings_bulk_round_trip(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    ratings = block_ratings(n_users=12, n_items=10)
    client.create_or_update_ratings_bulk(
        ratings, chunk_size=16
    )  # several chunks, sent back to back
    got, cursor = [], None
    while True:
        page = client.list_ratings(amt=25, cursor=cursor)
        assert page["ratings"].dtype == np.dtype(RATINGS_DTYPE)
        got.append(page["ratings"])
        if not page["has_next"]:
            break
        cursor = page["next_cursor"]
    both = np.sort(np.concatenate(got), order=["user_id", "item_id"])
    assert both.tolist() == np.sort(ratings, order=["user_id", "item_id"]).tolist()


def test_ratings_as_dicts_and_per_user(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    client.create_or_update_ratings_bulk(as_dicts(block_ratings(n_users=2, n_items=4)))
    client.create_or_update_user_ratings_bulk(
        9,
        [
            {"item_id": 1, "rating": 3.0, "timestamp": 1.7e9},
            {"item_id": 2, "rating": 4.5, "timestamp": 1.7e9},
        ],
    )
    client.create_or_update_rating(9, 3, 10, timestamp=1.7e9)
    client.create_or_update_rating(9, 1, 6.0)  # overwrite
    mine = client.list_user_ratings(9)
    assert mine["has_next"] is False
    rows = np.sort(mine["user_ratings"], order="item_id")
    assert rows.dtype == np.dtype([("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")])
    assert rows[["item_id", "rating"]].tolist() == [(1, 6.0), (2, 4.5), (3, 10.0)]
    assert rows["timestamp"][1] == 1.7e9


def test_user_rating_pages(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    rows = np.array([(1, i, 5.0, 1.6e9) for i in range(1, 71)], dtype=RATINGS_DTYPE)
    client.create_or_update_ratings_bulk(rows)
    first = client.list_user_ratings(1, amt=64)
    assert len(first["user_ratings"]) == 64 and first["has_next"] and first["next_page"] == 2
    assert len(client.list_user_ratings(1, page=2)["user_ratings"]) == 6
    assert sorted(client.list_all_user_ratings(1)["item_id"].tolist()) == list(range(1, 71))


def test_rating_deletion_and_errors(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    client.create_or_update_rating(1, 2, 8.0)
    client.create_or_update_rating(1, 3, 8.0)
    client.delete_rating(1, 2)
    with pytest.raises(NotFoundError) as info:
        client.delete_rating(1, 2)
    assert info.value.name == "USER_RATING_NOT_FOUND"
    with pytest.raises(WrongData):
        client.create_or_update_rating(1, 4, 11.0)
    client.delete_user_ratings(1)
    assert len(client.list_user_ratings(1)["user_ratings"]) == 0


def test_interactions_round_trip(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    events = np.array(
        [(1, 10, "view", 1.6e9), (1, 11, "like", 1.6e9 + 1), (2, 10, "view", 1.6e9 + 2)],
        dtype=INTERACTIONS_DTYPE,
    )
    assert client.create_interactions_bulk(events, chunk_size=2) == {"warnings": []}
    client.create_interaction(2, 12, "addToCart", timestamp=1.6e9 + 3, properties={"price": 9.5})
    client.create_user_interactions_bulk(
        3, [{"item_id": 10, "interaction_type": "view", "timestamp": 1.6e9}]
    )
    listed = client.list_interactions(amt=10)["interactions"]
    assert listed.dtype.names == (
        "user_id",
        "item_id",
        "interaction_type",
        "timestamp",
        "properties",
    )
    assert listed.dtype["user_id"] == np.uint32
    assert sorted(listed[["user_id", "item_id", "interaction_type"]].tolist()) == [
        (1, 10, "view"),
        (1, 11, "like"),
        (2, 10, "view"),
        (2, 12, "addToCart"),
        (3, 10, "view"),
    ]
    assert [p for p in listed["properties"].tolist() if p] == [{"price": 9.5}]
    window = client.list_interactions(start_timestamp=1.6e9 + 1, end_timestamp=1.6e9 + 2.5)[
        "interactions"
    ]
    assert sorted(window["item_id"].tolist()) == [10, 11]
    likes = client.list_user_interactions(1, interaction_types=["like"])["interactions"]
    assert likes["item_id"].tolist() == [11] and "user_id" not in (likes.dtype.names or ())
    with pytest.raises(WrongData):
        client.list_interactions(start_timestamp=2e9, end_timestamp=1e9)


def test_sessions(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer, id_types=("uint32", "uint32", "uuid"))
    session = "0f8fad5b-d9cb-469f-a165-70867728950e"
    client.create_session_interaction(session, 10, "view", timestamp=1.6e9)
    rows = np.array(
        [(10 + i, "view", 1.6e9 + i) for i in range(1, 3)],
        dtype=[("item_id", "<u4"), ("interaction_type", "<U8"), ("timestamp", "<f8")],
    )
    client.create_session_interactions_bulk(session, rows)
    other = [
        {
            "session_id": "1f8fad5b-d9cb-469f-a165-70867728950e",
            "item_id": 10,
            "interaction_type": "view",
            "timestamp": 1.6e9,
        }
    ]
    client.create_sessions_interactions_bulk(other)
    mine = client.list_session_interactions(session)["interactions"]
    assert sorted(mine["item_id"].tolist()) == [10, 11, 12]
    everything = client.list_sessions_interactions()["interactions"]
    assert everything.dtype["session_id"] == np.dtype("U36") and len(everything) == 4


def test_resolved_sessions(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer, id_types=("uint32", "uint32", "uuid"))
    session = "0f8fad5b-d9cb-469f-a165-70867728950e"
    client.resolve_session(7, session, timestamp=1.6e9)
    resolved = client.list_resolved_sessions_by_users([7])["resolved_sessions"]
    assert resolved[["session_id", "user_id"]].tolist() == [(session, 7)]
    assert resolved.dtype["timestamp"] == np.float64
