"""Typed item and user properties (§6, §9.4): declarations, every value type, validation."""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import pytest
from apikit import SERIALIZERS, call, expect_error, root, rows, token_of, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ServerProcess

SCALAR_TYPES = {  # property value type -> numpy dtype of the pkl wire
    "int8": "i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
    "uint8": "u1",
    "uint16": "<u2",
    "uint32": "<u4",
    "uint64": "<u8",
    "float16": "<f2",
    "float32": "<f4",
    "float64": "<f8",
    "float": "<f4",
    "bool": "?",
    "unicode8": "<U8",
    "bytes4": "S4",
}
EXTREMES = [  # two rows of values per type: the bounds of each range
    {
        "int8": -128,
        "int16": -32768,
        "int32": -(2**31),
        "int64": -(2**63),
        "uint8": 0,
        "uint16": 0,
        "uint32": 0,
        "uint64": 0,
        "float16": -65504.0,
        "float32": -1.5,
        "float64": -1e300,
        "float": 0.25,
        "bool": False,
        "unicode8": "",
        "bytes4": b"\x00a",
    },
    {
        "int8": 127,
        "int16": 32767,
        "int32": 2**31 - 1,
        "int64": 2**63 - 1,
        "uint8": 255,
        "uint16": 65535,
        "uint32": 2**32 - 1,
        "uint64": 2**64 - 1,
        "float16": 65504.0,
        "float32": 3.0e38,
        "float64": 1e308,
        "float": 1.5,
        "bool": True,
        "unicode8": "héllo ✓!",
        "bytes4": b"\xff\x00\x01b",
    },
]
REPEATED = {"r_tags": "unicode8", "r_sizes": "uint16", "r_codes": "bytes4"}


def prop(value_type: str) -> str:
    return f"p_{value_type}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def json_value(value: Any) -> Any:
    """A property value as a JSON client sends it (bytes as unpadded url-safe base64)."""
    if isinstance(value, bytes):
        return b64(value)
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def unjson(value: Any, value_type: str) -> Any:
    if value_type.startswith("bytes") and isinstance(value, str):
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return value


@pytest.fixture(scope="module", params=SERIALIZERS)
def typed(server: ServerProcess, request: pytest.FixtureRequest) -> CrossingMindsApiClient:
    """A database with one item property of every scalar type and a few repeated ones."""
    client = root(server.url).database(request.param)
    for value_type in SCALAR_TYPES:
        client.create_item_property(prop(value_type), value_type)
    for name, value_type in REPEATED.items():
        client.create_item_property(name, value_type, repeated=True)
    client.create_user_property("age", "uint8", indexed=True)
    client.create_user_property("nickname", "unicode16")
    return client


def serializer_of(client: CrossingMindsApiClient) -> str:
    return "pkl" if client.b64_encode_bytes is False else "json"


# --- declarations ---------------------------------------------------------------------------------


def test_declarations_read_back(typed: CrossingMindsApiClient) -> None:
    listed = {p["property_name"]: p for p in typed.list_item_properties()["properties"]}
    for value_type in SCALAR_TYPES:
        assert listed[prop(value_type)] == {
            "property_name": prop(value_type),
            "value_type": value_type,
            "repeated": False,
        }
        assert typed.get_item_property(prop(value_type))["value_type"] == value_type
    assert typed.get_item_property("R_TAGS") == {
        "property_name": "r_tags",
        "value_type": "unicode8",
        "repeated": True,
    }
    assert typed.get_user_property("age") == {
        "property_name": "age",
        "value_type": "uint8",
        "repeated": False,
        "indexed": True,
    }
    assert {p["property_name"] for p in typed.list_user_properties()["properties"]} == {
        "age",
        "nickname",
    }


def test_duplicates_and_unknown_types(typed: CrossingMindsApiClient) -> None:
    with xminds_error(xerr.DuplicatedError):
        typed.create_item_property("p_int8", "int8")
    with xminds_error(xerr.DuplicatedError):
        typed.create_item_property("P_Int8", "uint16")  # names are case-insensitive
    with xminds_error(xerr.DuplicatedError):
        typed.create_user_property("age", "uint8")
    for value_type in (
        "int128",
        "uint",
        "float128",
        "unicode0",
        "unicode",
        "bytes70000",
        "date",
        "uuid",
        "str",
    ):
        with xminds_error(xerr.WrongData):
            typed.create_item_property("fresh_name", value_type)
    for name in ("bad name", "a:b", "item_id", "", "x" * 65):
        with xminds_error(xerr.WrongData):
            typed.create_item_property(name, "int8")
    with xminds_error(xerr.NotFoundError):
        typed.get_item_property("fresh_name")


def test_create_get_delete(typed: CrossingMindsApiClient) -> None:
    typed.create_item_property("ephemeral", "float64", repeated=True)
    typed.create_or_replace_item({"item_id": 900, "ephemeral": [1.5], "p_int8": 3})
    typed.delete_item_property("ephemeral")
    with xminds_error(xerr.NotFoundError, "PROPERTY_NOT_FOUND"):
        typed.get_item_property("ephemeral")
    with xminds_error(xerr.NotFoundError):
        typed.delete_item_property("ephemeral")
    assert typed.get_item(900)["item"] == {"item_id": 900, "p_int8": 3}  # its values went with it
    typed.create_item_property("ephemeral", "unicode4")  # the name can be declared again
    typed.delete_item_property("ephemeral")
    typed.create_user_property("ephemeral", "bool")
    typed.delete_user_property("ephemeral")
    with xminds_error(xerr.NotFoundError):
        typed.get_user_property("ephemeral")


# --- values round-trip ----------------------------------------------------------------------------


def check_item(reply: dict[str, Any], expected: dict[str, Any], serializer: str) -> None:
    for value_type, value in expected.items():
        got = (
            unjson(reply[prop(value_type)], value_type)
            if serializer == "json"
            else reply[prop(value_type)]
        )
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-6) and isinstance(got, float), (
                value_type,
                got,
            )
        else:
            assert got == value and type(got) is type(value), (value_type, got)


def test_every_type_round_trips_one_by_one(typed: CrossingMindsApiClient) -> None:
    serializer = serializer_of(typed)
    for n, values in enumerate(EXTREMES):
        item = {prop(t): (json_value(v) if serializer == "json" else v) for t, v in values.items()}
        item["r_codes"] = [json_value(b"\x01\x02") if serializer == "json" else b"\x01\x02"]
        typed.create_or_replace_item({"item_id": 10 + n, **item})
        reply = typed.get_item(10 + n)["item"]
        check_item(reply, values, serializer)
        assert [unjson(v, "bytes4") for v in reply["r_codes"]] == [b"\x01\x02"]


def test_every_type_round_trips_in_bulk(typed: CrossingMindsApiClient) -> None:
    serializer = serializer_of(typed)
    dtype = [("item_id", "<u4")] + [(prop(t), d) for t, d in SCALAR_TYPES.items()]
    if serializer == "pkl":
        items: Any = np.array(
            [(20 + n, *[row[t] for t in SCALAR_TYPES]) for n, row in enumerate(EXTREMES)],
            dtype=dtype,
        )
        tags: Any = np.array(
            [(0, "a"), (0, "b"), (1, "c")], dtype=[("item_index", "<u4"), ("value_id", "<U8")]
        )
    else:
        items = [
            {"item_id": 20 + n, **{prop(t): json_value(v) for t, v in row.items()}}
            for n, row in enumerate(EXTREMES)
        ]
        tags = [
            {"item_index": 0, "value_id": "a"},
            {"item_index": 0, "value_id": "b"},
            {"item_index": 1, "value_id": "c"},
        ]
    typed.create_or_replace_items_bulk(items, [{"name": "r_tags", "array": tags}])
    listed = {r["item_id"]: r for r in rows(typed.list_items([20, 21])["items"])}
    for n, values in enumerate(EXTREMES):
        check_item(listed[20 + n], values, serializer)
        check_item(typed.get_item(20 + n)["item"], values, serializer)
    assert typed.get_item(20)["item"]["r_tags"] == ["a", "b"]
    assert typed.get_item(21)["item"]["r_tags"] == ["c"]


def test_repeated_values_inline_in_a_list_of_dicts(typed: CrossingMindsApiClient) -> None:
    code = b64(b"\x07") if serializer_of(typed) == "json" else b"\x07"
    typed.create_or_replace_items_bulk(
        [
            {"item_id": 30, "r_tags": ["x", "y"], "r_sizes": [1, 65535]},
            {"item_id": 31, "r_codes": [code]},
        ]
    )
    assert typed.get_item(30)["item"] == {
        "item_id": 30,
        "r_tags": ["x", "y"],
        "r_sizes": [1, 65535],
    }
    assert typed.get_item(31)["item"]["r_codes"] == [code]


# --- validation: 400, code 40, the field and the row named, nothing written -----------------------

BAD_JSON_ROWS = [  # (property, bad value, words the message must contain)
    ("p_int16", "abc", ["p_int16", "row 2"]),
    ("p_int8", 128, ["p_int8", "row 2", "range"]),
    ("p_uint8", -1, ["p_uint8", "row 2", "range"]),
    ("p_uint64", 2**64, ["p_uint64", "row 2", "range"]),
    ("p_int64", 2**63, ["p_int64", "row 2", "range"]),
    ("p_float16", 70000.0, ["p_float16", "row 2", "range"]),
    ("p_int32", 1.5, ["p_int32", "row 2"]),
    ("p_bool", 1, ["p_bool", "row 2"]),
    ("p_float32", "1.5", ["p_float32", "row 2"]),
    ("p_unicode8", "x" * 9, ["p_unicode8", "row 2", "longer"]),
    ("p_bytes4", b64(b"12345"), ["p_bytes4", "row 2", "longer"]),
    ("p_bytes4", "not base64!", ["p_bytes4", "row 2"]),
    ("p_unicode8", 5, ["p_unicode8", "row 2"]),
    ("no_such_prop", 1, ["no_such_prop"]),
    ("r_tags", "not a list", ["r_tags", "row 2"]),
    ("r_sizes", [1, -5], ["r_sizes", "2"]),
]


def counters(client: CrossingMindsApiClient) -> dict[str, int]:
    return dict(client.get_database()["counters"])


def test_bad_values_in_json_bulk_are_refused_whole(
    server: ServerProcess, typed: CrossingMindsApiClient
) -> None:
    before, token = counters(typed), token_of(typed)
    for name, value, words in BAD_JSON_ROWS:
        items = [{"item_id": 501, "p_int8": 1}, {"item_id": 502}, {"item_id": 503, name: value}]
        body = expect_error(
            call(
                server.url,
                "PUT",
                "items-bulk/properties/",
                token,
                body={"items": items, "items_m2m": []},
            ),
            400,
            40,
        )
        for word in words:
            assert word in body["message"], (name, value, body["message"])
        body = expect_error(
            call(
                server.url,
                "PATCH",
                "items-bulk/properties/",
                token,
                body={"items": items, "create_if_missing": True},
            ),
            400,
            40,
        )
    assert counters(typed) == before
    assert len(typed.list_items([501, 502, 503])["items"]) == 0


def test_nan_is_refused(server: ServerProcess, typed: CrossingMindsApiClient) -> None:
    before, token = counters(typed), token_of(typed)
    items = np.array([(601, 1.0), (602, np.nan)], dtype=[("item_id", "<u4"), ("p_float64", "<f8")])
    body = expect_error(
        call(
            server.url,
            "PUT",
            "items-bulk/properties/",
            token,
            fmt="pkl",
            body={"items": items, "items_m2m": []},
        ),
        400,
        40,
    )
    assert "p_float64" in body["message"] and "row 1" in body["message"]
    body = expect_error(
        call(
            server.url,
            "PUT",
            "items/603/properties/",
            token,
            fmt="pkl",
            body={"item": {"p_float32": math.inf}},
        ),
        400,
        40,
    )
    assert "p_float32" in body["message"]
    raw = b'{"items": [{"item_id": 604, "p_float64": NaN}]}'  # not JSON, but Python writes it
    expect_error(call(server.url, "PUT", "items-bulk/properties/", token, content=raw), 400, 40)
    tags = np.array([(0, np.nan)], dtype=[("item_index", "<u4"), ("value_id", "<f8")])
    expect_error(
        call(
            server.url,
            "PUT",
            "items-bulk/properties/",
            token,
            fmt="pkl",
            body={
                "items": np.array([(605,)], dtype=[("item_id", "<u4")]),
                "items_m2m": [{"name": "r_sizes", "array": tags}],
            },
        ),
        400,
        40,
    )
    assert counters(typed) == before


def test_bad_values_in_pkl_arrays(server: ServerProcess, typed: CrossingMindsApiClient) -> None:
    before, token = counters(typed), token_of(typed)
    cases = [
        (
            np.array([(701, 5), (702, 300)], dtype=[("item_id", "<u4"), ("p_int8", "<i2")]),
            ["p_int8", "row 1"],
        ),
        (
            np.array([(701, 5), (702, -3)], dtype=[("item_id", "<u4"), ("p_uint32", "<i8")]),
            ["p_uint32", "row 1"],
        ),
        (
            np.array(
                [(701, "ok"), (702, "ninechars")], dtype=[("item_id", "<u4"), ("p_unicode8", "<U9")]
            ),
            ["p_unicode8", "row 1"],
        ),
        (
            np.array([(701, 1.0), (702, 2.5)], dtype=[("item_id", "<u4"), ("p_int64", "<f8")]),
            ["p_int64", "row 1"],
        ),
        (
            np.array([(701, 1), (702, 1)], dtype=[("item_id", "<u4"), ("p_bool", "<i4")]),
            ["p_bool", "row 0"],
        ),
        (
            np.array([(701, b"a"), (702, b"b")], dtype=[("item_id", "<u4"), ("p_unicode8", "S2")]),
            ["p_unicode8"],
        ),
        (
            np.array([(701, 1e39)], dtype=[("item_id", "<u4"), ("p_float32", "<f8")]),
            ["p_float32", "row 0"],
        ),
        (np.array([(701, 1)], dtype=[("item_id", "<u4"), ("unknown", "<i4")]), ["unknown"]),
    ]
    for items, words in cases:
        body = expect_error(
            call(
                server.url,
                "PUT",
                "items-bulk/properties/",
                token,
                fmt="pkl",
                body={"items": items, "items_m2m": []},
            ),
            400,
            40,
        )
        for word in words:
            assert word in body["message"], (items.dtype, body["message"])
    long_tag = np.array(
        [(0, "fine"), (1, "much too long")], dtype=[("item_index", "<u4"), ("value_id", "<U13")]
    )
    two = np.array([(703,), (704,)], dtype=[("item_id", "<u4")])
    body = expect_error(
        call(
            server.url,
            "PUT",
            "items-bulk/properties/",
            token,
            fmt="pkl",
            body={"items": two, "items_m2m": [{"name": "r_tags", "array": long_tag}]},
        ),
        400,
        40,
    )
    assert "r_tags" in body["message"] and "row 1" in body["message"]
    scalar_m2m = np.array([(0, 5)], dtype=[("item_index", "<u4"), ("value_id", "i1")])
    for name in ("p_int8", "nope"):  # not repeated / not declared
        expect_error(
            call(
                server.url,
                "PUT",
                "items-bulk/properties/",
                token,
                fmt="pkl",
                body={"items": two, "items_m2m": [{"name": name, "array": scalar_m2m}]},
            ),
            400,
            40,
        )
    out_of_rows = np.array([(2, "x")], dtype=[("item_index", "<u4"), ("value_id", "<U8")])
    expect_error(
        call(
            server.url,
            "PUT",
            "items-bulk/properties/",
            token,
            fmt="pkl",
            body={"items": two, "items_m2m": [{"name": "r_tags", "array": out_of_rows}]},
        ),
        400,
        40,
    )
    assert counters(typed) == before
    assert len(typed.list_items([701, 702, 703, 704])["items"]) == 0


def test_bad_single_values_are_refused(typed: CrossingMindsApiClient) -> None:
    for item in (
        {"p_int8": -129},
        {"p_unicode8": "é" * 9},
        {"unknown": 1},
        {"r_tags": "a"},
        {"p_bool": "yes"},
    ):
        with xminds_error(xerr.WrongData):
            typed.create_or_replace_item({"item_id": 801, **item})
        with xminds_error(xerr.WrongData):
            typed.partial_update_item({"item_id": 801, **item}, create_if_missing=True)
    with xminds_error(xerr.WrongData):
        typed.create_or_replace_user({"user_id": 801, "age": 256})
    with xminds_error(xerr.WrongData):
        typed.create_or_replace_users_bulk(
            [{"user_id": 802, "age": 20}, {"user_id": 803, "nickname": "n" * 17}]
        )
    with xminds_error(xerr.NotFoundError):
        typed.get_item(801)
    with xminds_error(xerr.NotFoundError):
        typed.get_user(802)
