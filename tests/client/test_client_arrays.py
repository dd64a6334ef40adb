"""Pure conversions between numpy arrays and the wire (no server needed)."""

from __future__ import annotations

import numpy as np
import pytest

from recoapi.client._arrays import (
    chunk_rows,
    filters_to_query,
    id_dtype,
    ids_from_wire,
    m2m_from_wire,
    property_dtype,
    reranking_to_query,
    rows_to_array,
    to_json,
)


def test_chunks_rebase_m2m_indices() -> None:
    items = np.array([(i,) for i in range(5)], dtype=[("item_id", "<u4")])
    m2m = np.array(
        [(4, "e"), (0, "a"), (2, "c"), (0, "b")], dtype=[("item_index", "<u4"), ("value_id", "U2")]
    )
    chunks = list(chunk_rows(items, {"tags": m2m}, 2, "item"))
    assert [c[0]["item_id"].tolist() for c in chunks] == [[0, 1], [2, 3], [4]]
    assert [c[1][0]["array"].tolist() for c in chunks] == [
        [(0, "a"), (0, "b")],
        [(0, "c")],
        [(0, "e")],
    ]
    assert m2m["item_index"].tolist() == [4, 0, 2, 0]  # the caller's array is untouched
    rows = [{"item_index": 3, "value_id": "x"}]
    assert list(chunk_rows([{"item_id": 1}] * 4, [{"name": "t", "array": rows}], 3, "item"))[1][
        1
    ] == [{"name": "t", "array": [{"item_index": 0, "value_id": "x"}]}]
    with pytest.raises(ValueError):
        list(chunk_rows(items, None, 0, "item"))


def test_json_bodies() -> None:
    ratings = np.array(
        [(b"\x01\x02", 7, 8.5)], dtype=[("item_id", "S4"), ("user_id", "<u4"), ("rating", "<f4")]
    )
    body = to_json({"ratings": ratings, "amt": np.int64(3)}, {"item": "bytes4", "user": "uint32"})
    assert body == {"ratings": [{"item_id": "AQI", "user_id": 7, "rating": 8.5}], "amt": 3}
    assert to_json({"item_id": b"AB-12"}, {"item": "hex8"}) == {"item_id": "AB-12"}
    assert to_json({"blob": b"\xff"}) == {"blob": "_w"}


def test_rows_to_structured_arrays() -> None:
    rows = [
        {"item_id": 1, "rating": 8.0, "timestamp": 1.5},
        {"item_id": 2, "rating": 3.0, "timestamp": 2.5},
    ]
    arr = rows_to_array(
        rows,
        [("item_id", None), ("rating", np.float32), ("timestamp", np.float64)],
        {"item": "uint16"},
    )
    assert arr.dtype == np.dtype([("item_id", "<u2"), ("rating", "<f4"), ("timestamp", "<f8")])
    partial = rows_to_array(
        [{"item_id": 1, "year": 1990}, {"item_id": 2}],
        [("item_id", None), ("year", "<i2")],
        {"item": "uint32"},
    )
    assert partial.dtype["year"] == np.dtype(object) and partial["year"].tolist() == [1990, None]
    empty = rows_to_array([], [("item_id", None), ("rating", np.float32)], {"item": "uuid"})
    assert empty.dtype == np.dtype([("item_id", "<U36"), ("rating", "<f4")]) and len(empty) == 0


def test_ids_and_m2m_from_json() -> None:
    assert ids_from_wire(["AQI", "_w"], "bytes4").tolist() == [b"\x01\x02", b"\xff"]
    assert ids_from_wire([3, 1], "int64").dtype == np.int64
    m2m = m2m_from_wire(
        [{"name": "Tags", "array": [{"item_index": 0, "value_id": "x"}]}],
        "item",
        {"tags": np.dtype("U20")},
    )
    assert m2m[0]["array"].dtype == np.dtype([("item_index", "<u4"), ("value_id", "<U20")])


def test_dtypes_for_types() -> None:
    assert id_dtype("hex32") == np.dtype("U32") and id_dtype("urlsafe8") == np.dtype("U8")
    assert property_dtype("unicode18") == np.dtype("U18") and property_dtype("float") == np.float32
    assert property_dtype("bytes3") == np.dtype("S3") and property_dtype("bool") == np.bool_
    with pytest.raises(ValueError):
        id_dtype("text")


def test_filters_and_reranking_for_query_strings() -> None:
    assert filters_to_query(
        [
            {"property_name": "year", "op": "gt", "value": 1990},
            {"property_name": "tags", "op": "notempty"},
            {"property_name": "genres", "op": "in", "value": ["A", "B"]},
            "year:lt:2000",
        ]
    ) == ["year:gt:1990", "tags:notempty", "genres:in:A,B", "year:lt:2000"]
    with pytest.raises(TypeError):
        filters_to_query([{"property_name": "x", "op": "eq", "value": {"nested": 1}}])
    assert reranking_to_query(
        [
            {
                "property_name": "genres",
                "op": "diversity",
                "weight": 0.5,
                "options": {"default_malus": 0.25},
            },
            {"property_name": "genres", "op": "diversity"},
        ]
    ) == ["genres:diversity:0.5:default_malus:0.25", "genres:diversity:"]
