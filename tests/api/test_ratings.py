"""Ratings (§9.6): upserts, per-user and global bulks, listings, deletes, validation, retries."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from apikit import SERIALIZERS, call, expect_error, root, rows, token_of, wire, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ServerProcess

RATINGS = [("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")]
USER_RATINGS = [("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")]


@pytest.fixture(params=SERIALIZERS)
def db(server: ServerProcess, request: pytest.FixtureRequest) -> CrossingMindsApiClient:
    return root(server.url).database(request.param)


def fmt(client: CrossingMindsApiClient) -> str:
    return "json" if client.b64_encode_bytes else "pkl"


def all_ratings(client: CrossingMindsApiClient) -> list[tuple[int, int, float, float]]:
    found, cursor = [], None
    while True:
        page = client.list_ratings(amt=4, cursor=cursor)
        assert len(page["ratings"]) <= 4
        found += [
            (int(r["user_id"]), int(r["item_id"]), float(r["rating"]), float(r["timestamp"]))
            for r in rows(page["ratings"])
        ]
        if not page["has_next"]:
            return found
        cursor = page["next_cursor"]


def test_single_upsert_and_delete(db: CrossingMindsApiClient) -> None:
    db.create_or_update_rating(1, 10, 7.5, timestamp=1.6e9)
    db.create_or_update_rating(1, 10, 2.0, timestamp=1.7e9)  # overwrites
    db.create_or_update_rating(1, 11, 10)  # timestamp defaults to now
    found = {r["item_id"]: r for r in rows(db.list_user_ratings(1)["user_ratings"])}
    assert found[10]["rating"] == 2.0 and found[10]["timestamp"] == 1.7e9
    assert found[11]["rating"] == 10.0 and found[11]["timestamp"] > 1.7e9
    db.delete_rating(1, 10)
    assert [int(r["item_id"]) for r in rows(db.list_user_ratings(1)["user_ratings"])] == [11]
    for user, item in ((1, 10), (1, 999), (999, 10)):
        with xminds_error(xerr.NotFoundError, "USER_RATING_NOT_FOUND"):
            db.delete_rating(user, item)
    db.delete_user_ratings(1)
    assert len(db.list_user_ratings(1)["user_ratings"]) == 0


def test_per_user_and_global_bulks(db: CrossingMindsApiClient) -> None:
    serializer = fmt(db)
    mine = np.array([(10, 8.0, 1.5e9), (11, 1.0, 1.5e9), (12, 9.5, 1.5e9)], dtype=USER_RATINGS)
    db.create_or_update_user_ratings_bulk(2, wire(mine, serializer))
    many = np.array([(3, 10, 4.0, 1e9), (4, 10, 5.0, 1e9), (2, 11, 6.0, 1.6e9)], dtype=RATINGS)
    db.create_or_update_ratings_bulk(wire(many, serializer))
    assert sorted(all_ratings(db)) == [
        (2, 10, 8.0, 1.5e9),
        (2, 11, 6.0, 1.6e9),
        (2, 12, 9.5, 1.5e9),
        (3, 10, 4.0, 1e9),
        (4, 10, 5.0, 1e9),
    ]
    no_time = [{"user_id": 5, "item_id": 10, "rating": 3}]  # timestamp is optional, ints are fine
    db.create_or_update_ratings_bulk(
        no_time if serializer == "json" else np.array([(5, 10, 3.0)], dtype=RATINGS[:3])
    )
    assert db.get_database()["counters"]["rating"] == 6


def test_user_ratings_are_paginated(db: CrossingMindsApiClient) -> None:
    ratings = np.array([(7, item, 5.0, 1e9) for item in range(1, 71)], dtype=RATINGS)
    db.create_or_update_ratings_bulk(wire(ratings, fmt(db)))
    seen: list[int] = []
    page: Any = 1
    while page:
        answer = db.list_user_ratings(7, amt=30, page=page)
        seen += [int(r["item_id"]) for r in rows(answer["user_ratings"])]
        assert answer["next_page"] == (page + 1 if answer["has_next"] else None)
        page = answer["next_page"]
    assert sorted(seen) == list(range(1, 71)) and len(seen) == 70
    assert len(db.list_user_ratings(7)["user_ratings"]) == 64  # the default page is the maximum
    for amt in (0, 65):
        with xminds_error(xerr.WrongData):
            db.list_user_ratings(7, amt=amt)
    assert len(all_ratings(db)) == 70
    with xminds_error(xerr.WrongData):
        db.list_ratings(cursor="garbage")


BAD_ROWS = [  # (user_id, item_id, rating, timestamp)
    (1, 2, 0.5, 1e9),
    (1, 2, 10.5, 1e9),
    (1, 2, -3.0, 1e9),
    (1, 2, "8", 1e9),
    (1, 2, 5.0, 1e12),
    (0, 2, 5.0, 1e9),
    (1, 2**32, 5.0, 1e9),
    (1, -2, 5.0, 1e9),
    (1, 2, None, 1e9),
]


def test_bad_ratings_are_refused_whole(server: ServerProcess, db: CrossingMindsApiClient) -> None:
    serializer, token = fmt(db), token_of(db)
    good = {"user_id": 1, "item_id": 1, "rating": 5.0, "timestamp": 1e9}
    for user, item, rating, ts in BAD_ROWS:
        bad = {"user_id": user, "item_id": item, "rating": rating, "timestamp": ts}
        body = expect_error(
            call(
                server.url,
                "PUT",
                "ratings-bulk/",
                token,
                fmt=serializer,
                body={"ratings": [good, good | {"item_id": 3}, bad]},
            ),
            400,
            40,
        )
        assert "ratings" in body["message"] and (
            "row 2" in body["message"] or "rating" in body["message"]
        )
        if user == 1:  # the per-user bulk takes its user from the path
            expect_error(
                call(
                    server.url,
                    "PUT",
                    "users/1/ratings/",
                    token,
                    fmt=serializer,
                    body={
                        "ratings": [
                            {"item_id": 1, "rating": 5.0},
                            {"item_id": item, "rating": rating, "timestamp": ts},
                        ]
                    },
                ),
                400,
                40,
            )
    nan = np.array([(1, 1, 5.0, 1e9), (1, 2, np.nan, 1e9)], dtype=RATINGS)
    body = expect_error(
        call(server.url, "PUT", "ratings-bulk/", token, fmt="pkl", body={"ratings": nan}), 400, 40
    )
    assert "row 1" in body["message"]
    for rating in (0.0, 11, math.inf):
        with xminds_error(xerr.WrongData):
            db.create_or_update_rating(1, 1, rating)
    with xminds_error(xerr.WrongData):
        db.create_or_update_rating(1, 1, 5.0, timestamp="yesterday")
    with xminds_error(xerr.WrongData):
        db.create_or_update_ratings_bulk([{"user_id": 1, "item_id": 1}])  # no rating at all
    assert db.get_database()["counters"] == {k: 0 for k in db.get_database()["counters"]}
    assert all_ratings(db) == []


def test_retried_bulk_changes_nothing(db: CrossingMindsApiClient) -> None:
    serializer = fmt(db)
    chunk = wire(
        np.array([(1, 1, 5.0, 1e9), (1, 2, 6.0, 1e9), (2, 1, 7.0, 1e9)], dtype=RATINGS), serializer
    )
    db.create_or_update_ratings_bulk(chunk)
    first, counters = all_ratings(db), db.get_database()["counters"]
    db.create_or_update_ratings_bulk(chunk)  # the client retries a chunk after a connection error
    assert all_ratings(db) == first and db.get_database()["counters"] == counters
