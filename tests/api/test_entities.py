"""Items and users (§9.5): single and bulk writes, reads, listings, deletes, every id type (§3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from apikit import (
    SERIALIZERS,
    call,
    expect_error,
    ids,
    m2m,
    root,
    rows,
    token_of,
    wire,
    xminds_error,
)
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ServerProcess

ITEMS = [("item_id", "<u4"), ("year", "<i2")]
GENRES = [("item_index", "<u4"), ("value_id", "<U18")]
USERS = [("user_id", "<u4"), ("age", "u1")]
TAGS = [("user_index", "<u4"), ("value_id", "<U8")]


@pytest.fixture(params=SERIALIZERS)
def catalog(server: ServerProcess, request: pytest.FixtureRequest) -> CrossingMindsApiClient:
    """A fresh database with year/genres on items and age/tags on users."""
    client = root(server.url).database(request.param)
    client.create_item_property("year", "int16")
    client.create_item_property("genres", "unicode18", repeated=True)
    client.create_user_property("age", "uint8")
    client.create_user_property("tags", "unicode8", repeated=True)
    return client


def fmt(client: CrossingMindsApiClient) -> str:
    return "json" if client.b64_encode_bytes else "pkl"


# --- single entities -------------------------------------------------------------------------


def test_create_or_replace_then_get(catalog: CrossingMindsApiClient) -> None:
    catalog.create_or_replace_item({"item_id": 1, "year": 1999, "genres": ["Drama", "War"]})
    assert catalog.get_item(1)["item"] == {"item_id": 1, "year": 1999, "genres": ["Drama", "War"]}
    catalog.create_or_replace_item({"item_id": 1, "year": 2000})  # replace: genres are gone
    assert catalog.get_item(1)["item"] == {"item_id": 1, "year": 2000}
    catalog.create_or_update_item({"item_id": 2}, wait_for_completion=True)
    assert catalog.get_item(2)["item"] == {"item_id": 2}
    catalog.create_or_replace_user({"user_id": 5, "age": 33, "tags": ["a"]})
    assert catalog.get_user(5)["user"] == {"user_id": 5, "age": 33, "tags": ["a"]}
    with xminds_error(xerr.NotFoundError, "ITEM_NOT_FOUND"):
        catalog.get_item(3)
    with xminds_error(xerr.NotFoundError, "USER_NOT_FOUND"):
        catalog.get_user(6)
    for bad in (0, -1, 2**32, "abc"):
        with xminds_error(xerr.WrongData):
            catalog.get_item(bad)


def test_partial_update_and_create_if_missing(catalog: CrossingMindsApiClient) -> None:
    for create_if_missing in (None, False):
        with xminds_error(xerr.NotFoundError):
            catalog.partial_update_item(
                {"item_id": 7, "year": 1990}, create_if_missing=create_if_missing
            )
        with xminds_error(xerr.NotFoundError):
            catalog.partial_update_user(
                {"user_id": 7, "age": 1}, create_if_missing=create_if_missing
            )
    assert catalog.partial_update_item({"item_id": 7, "year": 1990}, create_if_missing=True) == {
        "item_created": True,
        "item_modified": False,
    }
    assert catalog.partial_update_item({"item_id": 7, "genres": ["Noir"]}) == {
        "item_created": False,
        "item_modified": True,
    }
    assert catalog.get_item(7)["item"] == {"item_id": 7, "year": 1990, "genres": ["Noir"]}
    assert catalog.partial_update_user({"user_id": 7, "tags": ["x", "y"]}, create_if_missing=True)[
        "user_created"
    ]
    catalog.partial_update_user({"user_id": 7, "age": 20})
    assert catalog.get_user(7)["user"] == {"user_id": 7, "age": 20, "tags": ["x", "y"]}


def test_delete_keeps_feedback_but_delete_all_does_not(catalog: CrossingMindsApiClient) -> None:
    catalog.create_or_replace_item({"item_id": 1, "year": 1999})
    catalog.create_or_replace_user({"user_id": 5, "age": 33})
    catalog.create_or_update_rating(5, 1, 7.0)
    catalog.create_interaction(5, 1, "click", timestamp=1.6e9)
    catalog.delete_item_props(1)
    with xminds_error(xerr.NotFoundError):
        catalog.get_item(1)
    catalog.delete_user_props(5)
    with xminds_error(xerr.NotFoundError):
        catalog.get_user(5)
    assert len(catalog.list_user_ratings(5)["user_ratings"]) == 1  # ratings are kept
    catalog.create_or_replace_user({"user_id": 5, "age": 34})
    catalog.delete_user_all(5)
    with xminds_error(xerr.NotFoundError):
        catalog.get_user(5)
    assert len(catalog.list_user_ratings(5)["user_ratings"]) == 0
    assert len(catalog.list_user_interactions(5)["interactions"]) == 0
    with xminds_error(xerr.NotFoundError):
        catalog.delete_item_props(12345)


# --- bulk --------------------------------------------------------------------------------------


def five_items() -> tuple[np.ndarray, np.ndarray]:
    items = np.array([(11, 1991), (12, 1992), (13, 1993), (14, 1994), (15, 1995)], dtype=ITEMS)
    genres = np.array([(0, "A"), (1, "B"), (1, "C"), (3, "D"), (4, "E"), (4, "F")], dtype=GENRES)
    return items, genres


@pytest.mark.parametrize("chunk_size", [2, 1024])
def test_bulk_items_array_format_with_chunks(
    catalog: CrossingMindsApiClient, chunk_size: int
) -> None:
    items, genres = five_items()
    serializer = fmt(catalog)
    catalog.create_or_replace_items_bulk(
        wire(items, serializer),
        [{"name": "genres", "array": wire(genres, serializer)}],
        chunk_size=chunk_size,
    )
    assert catalog.get_item(15)["item"] == {
        "item_id": 15,
        "year": 1995,
        "genres": ["E", "F"],
    }  # rebased index
    assert catalog.get_item(14)["item"]["genres"] == ["D"]
    assert "genres" not in catalog.get_item(13)["item"]
    listed = catalog.list_items([11, 12, 13, 14, 15, 99])
    assert sorted(ids(r["item_id"] for r in rows(listed["items"]))) == [11, 12, 13, 14, 15]
    assert m2m(listed, "item", "genres") == {11: ["A"], 12: ["B", "C"], 14: ["D"], 15: ["E", "F"]}
    only_year = catalog.list_items([12], properties=["year"])
    assert (
        rows(only_year["items"]) == [{"item_id": 12, "year": 1992}] and not only_year["items_m2m"]
    )


def test_bulk_users_list_of_dicts_format(catalog: CrossingMindsApiClient) -> None:
    users = [{"user_id": 21, "age": 20}, {"user_id": 22}, {"user_id": 23, "age": 40}]
    tags = [{"user_index": 2, "value_id": "t3"}, {"user_index": 0, "value_id": "t1"}]
    catalog.create_or_replace_users_bulk(users, {"tags": tags}, chunk_size=2)
    assert catalog.get_user(23)["user"] == {"user_id": 23, "age": 40, "tags": ["t3"]}
    assert catalog.get_user(22)["user"] == {"user_id": 22}
    listed = catalog.list_users([21, 22, 23])
    assert {r["user_id"]: r.get("age") for r in rows(listed["users"])} == {21: 20, 22: None, 23: 40}
    assert m2m(listed, "user", "tags") == {21: ["t1"], 23: ["t3"]}
    catalog.delete_users([21, 22])
    assert ids(r["user_id"] for r in rows(catalog.list_users([21, 22, 23])["users"])) == [23]


def test_bulk_partial_update(catalog: CrossingMindsApiClient) -> None:
    items, genres = five_items()
    serializer = fmt(catalog)
    catalog.create_or_replace_items_bulk(
        wire(items, serializer), [{"name": "genres", "array": wire(genres, serializer)}]
    )
    years = np.array([(11, 2011), (16, 2016)], dtype=ITEMS)
    with xminds_error(xerr.NotFoundError):  # item 16 does not exist
        catalog.partial_update_items_bulk(wire(years, serializer))
    assert catalog.get_item(11)["item"]["year"] == 1991  # all or nothing
    new_genres = np.array([(0, "Z")], dtype=GENRES)
    catalog.partial_update_items_bulk(
        wire(years, serializer),
        [{"name": "genres", "array": wire(new_genres, serializer)}],
        create_if_missing=True,
    )
    assert catalog.get_item(11)["item"] == {
        "item_id": 11,
        "year": 2011,
        "genres": ["Z"],
    }  # lists replaced
    assert catalog.get_item(12)["item"] == {"item_id": 12, "year": 1992, "genres": ["B", "C"]}
    assert catalog.get_item(16)["item"] == {"item_id": 16, "year": 2016}
    catalog.create_or_replace_items_bulk(wire(np.array([(12, 1)], dtype=ITEMS), serializer))
    assert catalog.get_item(12)["item"] == {
        "item_id": 12,
        "year": 1,
    }  # a bulk PUT replaces everything


def test_duplicate_ids_in_one_request(
    server: ServerProcess, catalog: CrossingMindsApiClient
) -> None:
    serializer = fmt(catalog)
    before = catalog.get_database()["counters"]
    items = np.array([(31, 1), (32, 2), (31, 3)], dtype=ITEMS)
    with xminds_error(xerr.DuplicatedError, "DUPLICATED_ITEM_ID") as info:
        catalog.create_or_replace_items_bulk(wire(items, serializer))
    assert info.value.data["key"] == "31" and info.value.data["type"] == "item"
    with xminds_error(xerr.DuplicatedError, "DUPLICATED_ITEM_ID"):
        catalog.partial_update_items_bulk(wire(items, serializer), create_if_missing=True)
    with xminds_error(xerr.DuplicatedError, "DUPLICATED_USER_ID"):
        catalog.create_or_replace_users_bulk([{"user_id": 9}, {"user_id": 9}])
    body = expect_error(
        call(
            server.url,
            "PUT",
            "items-bulk/properties/",
            token_of(catalog),
            body={"items": [{"item_id": 33}, {"item_id": "33"}]},
        ),
        400,
        42,
        "DUPLICATED_ITEM_ID",
    )
    assert body["error_data"]["key"] == "33"
    assert catalog.get_database()["counters"] == before
    assert len(catalog.list_items([31, 32, 33])["items"]) == 0


# --- paginated listing -------------------------------------------------------------------------


def test_paginated_listing_with_cursor_and_filters(catalog: CrossingMindsApiClient) -> None:
    n = 7
    items = np.array([(100 + i, 1990 + i) for i in range(n)], dtype=ITEMS)
    genres = np.array(
        [(i, "Even" if i % 2 == 0 else "Odd") for i in range(n)] + [(0, "First")], dtype=GENRES
    )
    serializer = fmt(catalog)
    catalog.create_or_replace_items_bulk(
        wire(items, serializer), [{"name": "genres", "array": wire(genres, serializer)}]
    )
    catalog.create_or_update_rating(1, 999, 5.0)  # an item known only from a rating is not listed
    seen: list[Any] = []
    cursor, pages = None, 0
    while True:
        page = catalog.list_items_paginated(amt=3, cursor=cursor)
        pages += 1
        assert len(page["items"]) <= 3
        seen += ids(r["item_id"] for r in rows(page["items"]))
        if not page["has_next"]:
            break
        cursor = page["next_cursor"]
    assert seen == [100 + i for i in range(n)] and pages == 3
    everything = catalog.list_items_paginated()
    assert m2m(everything, "item", "genres")[100] == ["Even", "First"]
    recent = catalog.list_items_paginated(filters=["year:gte:1994"])
    assert ids(r["item_id"] for r in rows(recent["items"])) == [104, 105, 106]
    odd = catalog.list_items_paginated(
        filters=[{"property_name": "genres", "op": "eq", "value": "Odd"}, "year:lt:1995"],
        properties=["year"],
    )
    assert rows(odd["items"]) == [{"item_id": 101, "year": 1991}, {"item_id": 103, "year": 1993}]
    filtered_pages = catalog.list_items_paginated(amt=1, filters=["genres:eq:Odd"])
    assert (
        ids(r["item_id"] for r in rows(filtered_pages["items"])) == [101]
        and filtered_pages["has_next"]
    )
    second = catalog.list_items_paginated(
        amt=1, filters=["genres:eq:Odd"], cursor=filtered_pages["next_cursor"]
    )
    assert ids(r["item_id"] for r in rows(second["items"])) == [103]
    for bad in (["nope:eq:1"], ["year:between:1"], ["year"]):
        with xminds_error(xerr.WrongData):
            catalog.list_items_paginated(filters=bad)
    with xminds_error(xerr.WrongData):
        catalog.list_items_paginated(cursor="not-a-cursor")
    catalog.create_or_replace_users_bulk(
        wire(np.array([(1, 10), (2, 20)], dtype=USERS), serializer)
    )
    users = catalog.list_users_paginated(amt=1)
    assert ids(r["user_id"] for r in rows(users["users"])) == [1] and users["has_next"]


# --- id types ------------------------------------------------------------------------------------

ID_CASES = {  # id type: (ids sent, ids expected back, pkl dtype)
    "uint32": ([1, 7, 2**32 - 1], [1, 7, 2**32 - 1], "<u4"),
    "int64": ([-(2**63), -1, 2**63 - 1], [-(2**63), -1, 2**63 - 1], "<i8"),
    "uint64": ([2**64 - 1, 2**63, 1], [2**64 - 1, 2**63, 1], "<u8"),
    "uuid": (
        [
            "123E4567-E89B-12D3-A456-426614174000",
            "c3391d83-553b-40e7-818e-fcf658ec397d",
            "00000000-0000-0000-0000-000000000001",
        ],
        [
            "123e4567-e89b-12d3-a456-426614174000",
            "c3391d83-553b-40e7-818e-fcf658ec397d",
            "00000000-0000-0000-0000-000000000001",
        ],
        "<U36",
    ),
    "hex16": (["deadBEEF", "0", "ffffffffffffffff"], ["DEADBEEF", "0", "FFFFFFFFFFFFFFFF"], "<U16"),
    "urlsafe12": (["a.b-c_D", "Z", "x" * 12], ["a.b-c_D", "Z", "x" * 12], "<U12"),
    "bytes8": ([b"\x00\x01", b"\xff" * 8, b"ab/+="], [b"\x00\x01", b"\xff" * 8, b"ab/+="], "S8"),
}


def id_table(
    names: list[str], values: list[tuple[Any, ...]], dtypes: list[str], serializer: str
) -> Any:
    arr = np.array(values, dtype=list(zip(names, dtypes, strict=True)))
    if serializer == "pkl":
        return arr
    return [dict(zip(names, row, strict=True)) for row in values]  # plain Python ids for JSON


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("id_type", list(ID_CASES))
def test_id_types_round_trip(server: ServerProcess, id_type: str, serializer: str) -> None:
    sent, expected, dtype = ID_CASES[id_type]
    client = root(server.url).database(serializer, item=id_type, user=id_type, session=id_type)
    client.create_item_property("year", "int16")
    client.create_or_replace_item({"item_id": sent[0], "year": 1})
    client.create_or_replace_items_bulk(
        id_table(["item_id", "year"], [(sent[1], 2), (sent[2], 3)], [dtype, "<i2"], serializer)
    )
    for sent_id, want in zip(sent, expected, strict=True):
        assert client.get_item(sent_id)["item"]["item_id"] == want
    assert sorted(ids(r["item_id"] for r in rows(client.list_items(sent)["items"]))) == sorted(
        expected
    )
    assert sorted(
        ids(r["item_id"] for r in rows(client.list_items_paginated()["items"]))
    ) == sorted(expected)

    ratings = id_table(
        ["user_id", "item_id", "rating", "timestamp"],
        [(sent[i], sent[(i + 1) % 3], 5.0 + i, 1.6e9) for i in range(3)],
        [dtype, dtype, "<f4", "<f8"],
        serializer,
    )
    client.create_or_update_ratings_bulk(ratings)
    listed = rows(client.list_ratings()["ratings"])
    assert sorted((r["user_id"], r["item_id"]) for r in listed) == sorted(
        (expected[i], expected[(i + 1) % 3]) for i in range(3)
    )
    mine = rows(client.list_user_ratings(sent[0])["user_ratings"])
    assert [r["item_id"] for r in mine] == [expected[1]]
    client.create_or_update_rating(sent[2], sent[2], 9.0)
    client.delete_rating(sent[2], sent[2])
    with xminds_error(xerr.NotFoundError, "USER_RATING_NOT_FOUND"):
        client.delete_rating(sent[2], sent[2])

    client.create_or_replace_user({"user_id": sent[1]})
    assert client.get_user(sent[1])["user"]["user_id"] == expected[1]
    events = id_table(
        ["user_id", "item_id", "interaction_type", "timestamp"],
        [(sent[0], sent[2], "buy", 1.6e9)],
        [dtype, dtype, "<U8", "<f8"],
        serializer,
    )
    client.create_interactions_bulk(events)
    found = rows(client.list_interactions()["interactions"])
    assert [(r["user_id"], r["item_id"]) for r in found] == [(expected[0], expected[2])]
    client.create_session_interaction(sent[1], sent[0], "view", timestamp=1.6e9)
    sessions = rows(client.list_sessions_interactions()["interactions"])
    assert [(r["session_id"], r["item_id"]) for r in sessions] == [(expected[1], expected[0])]
