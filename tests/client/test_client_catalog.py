"""Property schemas, items and users: structured arrays round-trip in both wire formats."""

from __future__ import annotations

import numpy as np
import pytest
from clientkit import connect, declare_catalog, small_catalog

from recoapi.client import DuplicatedError, NotFoundError, WrongData
from server import ServerProcess


def test_property_schema(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    with pytest.raises(DuplicatedError):
        client.create_item_property("year", "int16")
    assert client.get_item_property("genres") == {
        "property_name": "genres",
        "value_type": "unicode18",
        "repeated": True,
    }
    names = {p["property_name"] for p in client.list_item_properties()["properties"]}
    assert names == {"year", "genres"}
    client.delete_item_property("year")
    with pytest.raises(NotFoundError):
        client.get_item_property("year")
    client.create_user_property("age", "uint8", indexed=True)
    assert client.get_user_property("age")["indexed"] is True
    assert [p["property_name"] for p in client.list_user_properties()["properties"]] == ["age"]
    client.delete_user_property("age")
    assert client.list_user_properties()["properties"] == []


def test_items_bulk_round_trip_with_rebased_chunks(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    items, m2m = small_catalog()
    client.create_or_update_items_bulk(items, m2m, chunk_size=2)  # 3 requests, indices rebased
    listed = client.list_items([50, 40, 30, 20, 10, 999])
    got = np.sort(listed["items"], order="item_id")
    assert got.dtype == np.dtype([("item_id", "<u4"), ("year", "<i2")])
    assert got.tolist() == items.tolist()
    genres = _genres(listed)
    assert genres == {
        10: ["Comedy", "Drama"],
        20: ["Action"],
        30: ["Drama"],
        50: ["Sci-Fi", "Action"],
    }
    assert client.get_item(50) == {
        "item": {"item_id": 50, "year": 1977, "genres": ["Sci-Fi", "Action"]}
    }


def test_items_as_lists_of_dicts_and_m2m_dict(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    rows = [{"item_id": 1, "year": 2000}, {"item_id": 2, "year": 2001}]
    client.create_or_replace_items_bulk(rows, {"genres": [{"item_index": 1, "value_id": "Horror"}]})
    assert _genres(client.list_items([1, 2])) == {2: ["Horror"]}


def test_paginated_listing_with_filters(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    client.create_or_update_items_bulk(*small_catalog())
    seen, cursor = [], None
    while True:
        page = client.list_items_paginated(amt=2, cursor=cursor)
        seen += page["items"]["item_id"].tolist()
        if not page["has_next"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == [10, 20, 30, 40, 50]
    recent = client.list_items_paginated(
        filters=[{"property_name": "year", "op": "gt", "value": 1995}]
    )
    assert sorted(recent["items"]["item_id"].tolist()) == [20, 40]
    action = client.list_items_paginated(filters=["genres:in:Action,Horror"], properties=["genres"])
    assert sorted(action["items"]["item_id"].tolist()) == [20, 50]
    assert action["items"].dtype.names == ("item_id",)


def test_single_item_updates(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    client.create_or_replace_item({"item_id": 7, "year": 1999, "genres": ["Drama"]})
    assert client.partial_update_item({"item_id": 7, "year": 2000}) == {
        "item_created": False,
        "item_modified": True,
    }
    assert client.get_item(7)["item"] == {"item_id": 7, "year": 2000, "genres": ["Drama"]}
    with pytest.raises(NotFoundError):
        client.partial_update_item({"item_id": 8, "year": 2000})
    assert client.partial_update_item({"item_id": 8, "year": 2000}, create_if_missing=True)[
        "item_created"
    ]
    client.partial_update_items_bulk(
        np.array([(7, 1980)], dtype=[("item_id", "<u4"), ("year", "<i2")])
    )
    assert client.get_item(7)["item"]["year"] == 1980
    client.delete_item_props(7)
    client.delete_items([8])
    with pytest.raises(NotFoundError):
        client.get_item(7)
    assert len(client.list_items([7, 8])["items"]) == 0


def test_bulk_errors(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    declare_catalog(client)
    twice = np.array([(1, 1990), (1, 1991)], dtype=[("item_id", "<u4"), ("year", "<i2")])
    with pytest.raises(DuplicatedError) as info:
        client.create_or_update_items_bulk(twice)
    assert info.value.name == "DUPLICATED_ITEM_ID"
    with pytest.raises(WrongData):
        client.create_or_update_items_bulk([{"item_id": 1, "colour": "red"}])


def test_users_mirror_items(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    client.create_user_property("age", "uint8")
    client.create_user_property("likes", "unicode10", repeated=True)
    users = np.array([(1, 30), (2, 41)], dtype=[("user_id", "<u4"), ("age", "u1")])
    likes = np.array(
        [(1, "jazz"), (1, "rock")], dtype=[("user_index", "<u4"), ("value_id", "<U10")]
    )
    client.create_or_update_users_bulk(users, [{"name": "likes", "array": likes}], chunk_size=1)
    listed = client.list_users([1, 2])
    assert np.sort(listed["users"], order="user_id").tolist() == [(1, 30), (2, 41)]
    assert listed["users"].dtype["age"] == np.uint8
    assert client.get_user(2)["user"] == {"user_id": 2, "age": 41, "likes": ["jazz", "rock"]}
    client.create_or_replace_user({"user_id": 3, "age": 5})
    assert client.partial_update_user({"user_id": 3, "age": 6})["user_modified"]
    client.partial_update_users_bulk([{"user_id": 1, "age": 31}])
    page = client.list_users_paginated(amt=10)
    assert sorted(page["users"]["age"].tolist()) == [6, 31, 41]
    client.delete_user(3)
    client.delete_users([2])
    client.create_or_update_rating(1, 100, 5.0)
    client.delete_user_all(1)
    with pytest.raises(NotFoundError):
        client.get_user(1)
    assert client.list_users_paginated()["users"].size == 0


@pytest.mark.parametrize("id_types", [("bytes8", "uuid", None), ("hex12", "urlsafe16", None)])
def test_text_and_bytes_ids(
    server: ServerProcess, serializer: str, id_types: tuple[str, str, None]
) -> None:
    client = connect(server.url, serializer, id_types=id_types)
    client.create_item_property("year", "int16")
    if id_types[0] == "bytes8":
        ids = np.array([b"\x01\x02\xff", b"abc/+="], dtype="S8")
    else:
        ids = np.array(["00AB12", "FFEE"], dtype="U12")
    users = ["6f1c8a40-3d1e-4b7a-9a4e-0c2d7f5b9e11"] if id_types[1] == "uuid" else ["alice.b-c_1"]
    items = np.empty(2, dtype=[("item_id", ids.dtype), ("year", "<i2")])
    items["item_id"], items["year"] = ids, [2001, 2002]
    client.create_or_update_items_bulk(items)
    got = client.list_items(ids)["items"]
    assert got.dtype["item_id"] == ids.dtype and sorted(got["item_id"].tolist()) == sorted(
        ids.tolist()
    )
    assert client.get_item(ids[0])["item"]["item_id"] == ids[0]
    client.create_or_update_rating(users[0], ids[1], 8.0)
    rated = client.list_user_ratings(users[0])["user_ratings"]
    assert rated["item_id"].tolist() == [ids[1]]
    assert client.list_ratings()["ratings"]["user_id"].tolist() == users


def _genres(listed: dict[str, object]) -> dict[int, list[str]]:
    items = listed["items"]["item_id"]  # type: ignore[index]
    out: dict[int, list[str]] = {}
    for entry in listed["items_m2m"]:  # type: ignore[attr-defined]
        if entry["name"] == "genres":
            assert entry["array"].dtype == np.dtype([("item_index", "<u4"), ("value_id", "<U18")])
            for index, value in entry["array"].tolist():
                out.setdefault(int(items[index]), []).append(value)
    return out
