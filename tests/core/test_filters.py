from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from recoapi.core.filters import (
    Filter,
    PreparedColumn,
    Rerank,
    bind_filters,
    bind_reranking,
    filter_mask,
    parse_filters,
    parse_reranking,
    prepare_column,
)
from recoapi.core.properties import PropertySpec, parse_value_type
from recoapi.engine.base import PropertyColumn
from recoapi.errors import WrongData


def wrong(match: str) -> pytest.RaisesExc[WrongData]:
    return pytest.raises(WrongData, match=match)


def spec(name: str, type_name: str, repeated: bool = False) -> PropertySpec:
    return PropertySpec(name, parse_value_type(type_name), repeated)


SPECS = {
    s.name: s
    for s in [
        spec("year", "int16"),
        spec("price", "float32"),
        spec("ok", "bool"),
        spec("title", "unicode10"),
        spec("code", "bytes4"),
        spec("big", "uint64"),
        spec("genres", "unicode18", repeated=True),
        spec("scores", "int32", repeated=True),
        spec("weights", "float64", repeated=True),
    ]
}

# Item:          0       1        2       3      4       5
COLUMNS = {
    "year": PropertyColumn("year", "int16", False, [1995, 1980, None, 2000, -5, 1995]),
    "price": PropertyColumn("price", "float32", False, [9.5, None, 1.0, 20.0, 0.0, 9.5]),
    "ok": PropertyColumn("ok", "bool", False, [True, False, None, True, False, True]),
    "title": PropertyColumn("title", "unicode10", False, ["b", "a", "", None, "c:d", "ab"]),
    "code": PropertyColumn("code", "bytes4", False, [b"\x01", None, b"", b"\x02", b"\x01", b"z"]),
    "big": PropertyColumn("big", "uint64", False, [2**64 - 1, 1, None, 2**63, 5, 0]),
    "genres": PropertyColumn(
        "genres",
        "unicode18",
        True,
        [["Drama"], ["Comedy", "Drama"], [], ["Horror"], None, ["Comedy"]],
    ),
    "scores": PropertyColumn("scores", "int32", True, [[1, 5], [], [10], [3], [5, 5], [-1]]),
    "weights": PropertyColumn("weights", "float64", True, [[0.5], [], [1.5, 2.5], [], [3.0], []]),
}


def passing(filters: Any, columns: Any = None, n_items: int = 6) -> list[int]:
    bound = bind_filters(parse_filters(filters), SPECS)
    mask = filter_mask(bound, COLUMNS if columns is None else columns, n_items)
    assert mask.dtype == bool and mask.shape == (n_items,)
    return np.flatnonzero(mask).tolist()


# -- parsing ----------------------------------------------------------------------------


def test_parse_string_forms() -> None:
    assert parse_filters(None) == []
    assert parse_filters("Year:GT:1990") == [Filter("year", "gt", "1990")]
    assert parse_filters("title:eq:a:b:c") == [Filter("title", "eq", "a:b:c")]
    assert parse_filters("genres:in:Drama,Comedy") == [Filter("genres", "in", ("Drama", "Comedy"))]
    assert parse_filters("genres:notempty") == [Filter("genres", "notempty")]
    assert parse_filters("genres:notempty:") == [Filter("genres", "notempty")]
    assert parse_filters("title:eq:") == [Filter("title", "eq", "")]


def test_parse_object_and_list_forms() -> None:
    parsed = parse_filters(
        [
            {"property_name": "year", "op": "gte", "value": 1990},
            {"property_name": "genres", "op": "notin", "value": ["Drama", "Horror"]},
            {"property_name": "genres", "op": "in", "value": "A,B"},
            {"property_name": "year", "op": "in", "value": 1995},
            {"property_name": "genres", "op": "notempty"},
            "year:lt:2000",
        ]
    )
    assert parsed == [
        Filter("year", "gte", 1990),
        Filter("genres", "notin", ("Drama", "Horror")),
        Filter("genres", "in", ("A", "B")),
        Filter("year", "in", (1995,)),
        Filter("genres", "notempty"),
        Filter("year", "lt", "2000"),
    ]
    assert parse_filters({"property_name": "year", "op": "eq", "value": 3}) == [
        Filter("year", "eq", 3)
    ]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("year", "must look like"),
        (":eq:1", "must look like"),
        ("year:like:1", "filter 'year:like:1': unknown op 'like'"),
        ("year:gt", "filter 'year:gt': gt needs a value"),
        ("year:notempty:1", "notempty takes no value"),
        ({"property_name": "year", "op": "eq"}, "eq needs a value"),
        ({"property_name": "year", "op": "eq", "value": {"a": 1}}, "advanced"),
        ({"property_name": "year", "op": "eq", "value": [1, 2]}, "single value"),
        ({"property_name": "year", "op": "notempty", "value": 1}, "notempty takes no value"),
        ({"property_name": "year", "op": "eq", "value": 1, "x": 2}, "needs exactly"),
        ({"op": "eq", "value": 1}, "needs exactly"),
        ({"property_name": "year", "value": 1}, "needs exactly"),
        ({"property_name": "year", "op": 3, "value": 1}, "unknown op 3"),
        (5, "must be a string, an object or a list"),
        ([5], "filter 5 must be a string or an object"),
    ],
)
def test_parse_errors(raw: Any, match: str) -> None:
    with wrong(match):
        parse_filters(raw)


def test_filter_round_trips_through_public_and_string_forms() -> None:
    for raw in ["year:gt:1990", "genres:in:a,b", "genres:notempty", "title:eq:a:b"]:
        flt = parse_filters(raw)[0]
        assert flt.describe() == raw
        assert parse_filters(flt.to_public()) == [flt]
    assert Filter("genres", "in", ("a", "b")).to_public()["value"] == ["a", "b"]


# -- binding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "values"),
    [
        ("year:eq:1995", (1995,)),
        ("year:lt:70000", (70000,)),
        ({"property_name": "year", "op": "eq", "value": 1995.0}, (1995,)),
        ({"property_name": "year", "op": "eq", "value": np.int16(7)}, (7,)),
        ("year:in:1,-2", (1, -2)),
        ("price:gt:1.5", (1.5,)),
        ({"property_name": "price", "op": "lte", "value": 2}, (2.0,)),
        ("ok:eq:True", (True,)),
        ("ok:neq:false", (False,)),
        ("ok:in:1,0", (True, False)),
        ("title:eq:a b", ("a b",)),
        ({"property_name": "title", "op": "eq", "value": 12}, ("12",)),
        ("code:eq:AQ", (b"\x01",)),
        ({"property_name": "code", "op": "eq", "value": b"\x01"}, (b"\x01",)),
        ("genres:notempty", ()),
    ],
)
def test_bind_converts_values(raw: Any, values: tuple[Any, ...]) -> None:
    (bound,) = bind_filters(parse_filters(raw), SPECS)
    assert bound.values == values
    assert [type(v) for v in bound.values] == [type(v) for v in values]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("price:eq:1.5", "filter 'price:eq:1.5': float properties do not support eq"),
        ("price:neq:1", "do not support neq"),
        ("price:in:1,2", "do not support in"),
        ("weights:notin:1", "do not support notin"),
        ("ok:lt:true", "bool properties do not support lt"),
        ("year:eq:abc", "filter 'year:eq:abc': 'abc' is not a valid int16 value"),
        ("year:eq:1.5", "not a valid int16"),
        ("year:in:1,x", "'x' is not a valid int16"),
        ({"property_name": "year", "op": "eq", "value": 1.5}, "1.5 is not a valid int16"),
        ({"property_name": "year", "op": "eq", "value": True}, "True is not a valid"),
        ("price:gt:nan", "not a valid float32"),
        ("price:gt:inf", "not a valid float32"),
        ("price:gt:x", "not a valid float32"),
        ("ok:eq:yes", "not a valid bool"),
        ({"property_name": "ok", "op": "eq", "value": 1}, "not a valid bool"),
        ("code:eq:A", "not a valid bytes4"),
        ({"property_name": "title", "op": "eq", "value": b"a"}, "not a valid unicode10"),
        ("nope:eq:1", "filter 'nope:eq:1': unknown property 'nope'"),
    ],
)
def test_bind_errors(raw: Any, match: str) -> None:
    with wrong(match):
        bind_filters(parse_filters(raw), SPECS)


def test_filter_bind_directly() -> None:
    bound = Filter("year", "gt", "3").bind(SPECS["year"])
    assert (bound.property_name, bound.op, bound.values, bound.repeated) == (
        "year",
        "gt",
        (3,),
        False,
    )


# -- evaluation: scalar properties ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("year:eq:1995", [0, 5]),
        ("year:neq:1995", [1, 2, 3, 4]),  # the missing year (2) passes neq
        ("year:lt:1995", [1, 4]),
        ("year:lte:1995", [0, 1, 4, 5]),
        ("year:gt:1995", [3]),
        ("year:gte:-5", [0, 1, 3, 4, 5]),
        ("year:in:1980,2000,7", [1, 3]),
        ("year:notin:1980,2000", [0, 2, 4, 5]),
        ("year:notempty", [0, 1, 3, 4, 5]),
        ("year:lt:70000", [0, 1, 3, 4, 5]),
        ("year:gt:70000", []),
        ("year:gt:-70000", [0, 1, 3, 4, 5]),
        ("year:eq:70000", []),
        ("year:neq:70000", [0, 1, 2, 3, 4, 5]),
        ("price:lt:9.5", [2, 4]),
        ("price:gte:9.5", [0, 3, 5]),
        ("ok:eq:true", [0, 3, 5]),
        ("ok:neq:true", [1, 2, 4]),
        ("ok:in:false", [1, 4]),
        ("title:eq:ab", [5]),
        ("title:lt:b", [1, 2, 5]),
        ("title:eq:c:d", [4]),
        ("title:notempty", [0, 1, 4, 5]),  # "" counts as empty
        ("title:in:a,b,zzzzzzzzzzzzzzz", [0, 1]),
        ("code:eq:AQ", [0, 4]),
        ("code:gt:AQ", [3, 5]),
        ("code:notin:AQ", [1, 2, 3, 5]),
        ("code:notempty", [0, 3, 4, 5]),
        ("big:gt:9223372036854775807", [0, 3]),
        ("big:eq:18446744073709551615", [0]),
        ("big:lt:-1", []),
        ("big:gte:-1", [0, 1, 3, 4, 5]),
        ("big:in:1,18446744073709551615,-3,99999999999999999999", [0, 1]),
    ],
)
def test_scalar_semantics(raw: str, expected: list[int]) -> None:
    assert passing(raw) == expected


# -- evaluation: repeated properties ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("genres:eq:Drama", [0, 1]),
        ("genres:neq:Drama", [2, 3, 4, 5]),  # all values must differ; empty lists pass
        ("genres:in:Comedy,Horror", [1, 3, 5]),
        ("genres:notin:Comedy,Horror", [0, 2, 4]),
        ("genres:notempty", [0, 1, 3, 5]),
        ("genres:lt:D", [1, 5]),
        ("scores:eq:5", [0, 4]),
        ("scores:neq:5", [1, 2, 3, 5]),
        ("scores:gt:4", [0, 2, 4]),
        ("scores:lte:1", [0, 5]),
        ("scores:gt:3000000000", []),
        ("scores:neq:3000000000", [0, 1, 2, 3, 4, 5]),
        ("weights:gt:2", [2, 4]),
        ("weights:lt:1", [0]),
    ],
)
def test_repeated_semantics(raw: str, expected: list[int]) -> None:
    assert passing(raw) == expected


def test_filters_combine_with_and() -> None:
    assert passing(["year:gte:1990", "genres:in:Comedy,Drama"]) == [0, 5]
    assert passing(["year:gte:1990", {"property_name": "ok", "op": "eq", "value": False}]) == []
    assert passing([]) == [0, 1, 2, 3, 4, 5]


def test_missing_column_counts_as_all_missing() -> None:
    columns = {k: v for k, v in COLUMNS.items() if k != "year"}
    assert passing("year:gt:0", columns) == []
    assert passing("year:neq:3", columns) == [0, 1, 2, 3, 4, 5]
    assert passing("year:notin:3", columns) == [0, 1, 2, 3, 4, 5]


def test_items_beyond_the_column_are_missing() -> None:
    assert passing("year:eq:1995", n_items=8) == [0, 5]
    assert passing("year:neq:1995", n_items=8) == [1, 2, 3, 4, 6, 7]
    assert passing("genres:neq:Drama", n_items=8) == [2, 3, 4, 5, 6, 7]
    assert passing("year:eq:1995", n_items=3) == [0]


def test_prepared_columns_are_reusable() -> None:
    prepared = {name: prepare_column(col) for name, col in COLUMNS.items()}
    assert isinstance(prepared["genres"], PreparedColumn)
    assert prepared["genres"].owner is not None
    assert passing("genres:eq:Drama", prepared) == [0, 1]
    assert passing("year:neq:1995", prepared, n_items=7) == [1, 2, 3, 4, 6]
    assert passing("title:lt:b", prepared) == [1, 2, 5]


def test_empty_catalog() -> None:
    empty = {
        "year": PropertyColumn("year", "int16", False, []),
        "genres": PropertyColumn("genres", "unicode18", True, []),
    }
    assert passing(["year:gt:1", "genres:in:a"], empty, n_items=0) == []


def test_filter_mask_is_fast() -> None:
    n = 100_000
    rng = np.random.default_rng(42)
    years = [int(y) if y > 1900 else None for y in rng.integers(1890, 2020, n)]
    pool = np.array(["Drama", "Comedy", "Horror", "Action"])
    genres = [pool[rng.integers(0, 4, rng.integers(0, 4))].tolist() for _ in range(n)]
    prepared = {
        "year": prepare_column(PropertyColumn("year", "int16", False, years)),
        "genres": prepare_column(PropertyColumn("genres", "unicode18", True, genres)),
    }
    bound = bind_filters(parse_filters(["year:gte:1990", "genres:notin:Drama,Horror"]), SPECS)
    start = time.perf_counter()
    mask = filter_mask(bound, prepared, n)
    assert time.perf_counter() - start < 0.1
    expected = [
        y is not None and y >= 1990 and not {"Drama", "Horror"} & set(g)
        for y, g in zip(years, genres, strict=True)
    ]
    assert mask.tolist() == expected


# -- reranking --------------------------------------------------------------------------


def test_parse_reranking_forms() -> None:
    assert parse_reranking(None) == []
    assert parse_reranking("genres:diversity") == [Rerank("genres")]
    assert parse_reranking(
        [
            "genres:diversity:0.5:default_malus:0.25",
            "genres:diversity::activation_period:1",
            "Genres:Diversity:0.75::default_malus:0.25",
            {"property_name": "genres", "op": "diversity"},
            {
                "property_name": "genres",
                "op": "diversity",
                "weight": 1.5,
                "options": {"max_activation_count": 3, "activation_period": "2"},
            },
        ]
    ) == [
        Rerank("genres", "diversity", 0.5, {"default_malus": 0.25}),
        Rerank("genres", "diversity", 1.0, {"activation_period": 1}),
        Rerank("genres", "diversity", 0.75, {"default_malus": 0.25}),
        Rerank("genres"),
        Rerank("genres", "diversity", 1.5, {"max_activation_count": 3, "activation_period": 2}),
    ]


def test_reranking_matches_the_client_string_form() -> None:
    # what xminds' _clean_reranking_to_urlsafe produces for these objects
    objects = [
        {"property_name": "tags", "op": "diversity", "weight": 1, "options": {"default_malus": 2}},
        {"property_name": "tags", "op": "diversity", "options": {"activation_period": 1}},
    ]
    strings = ["tags:diversity:1:default_malus:2", "tags:diversity::activation_period:1"]
    assert parse_reranking(objects) == parse_reranking(strings)
    assert parse_reranking(objects)[0].to_public() == {
        "property_name": "tags",
        "op": "diversity",
        "weight": 1.0,
        "options": {"default_malus": 2.0},
    }


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("genres", "must look like"),
        ("genres:popularity", "unknown op 'popularity'"),
        ("genres:diversity:0", "weight must be > 0"),
        ("genres:diversity:-1", "weight must be > 0"),
        ("genres:diversity:abc", "weight: 'abc' is not a valid float64"),
        ("genres:diversity:nan", "not a valid float"),
        ("genres:diversity:1:default_malus", "key:value pairs"),
        ("genres:diversity:1:colour:red", "unknown option 'colour'"),
        ("genres:diversity:1:activation_period:0", "activation_period must be >= 1"),
        ("genres:diversity:1:activation_period:1.5", "not a valid int64"),
        ("genres:diversity:1:max_activation_count:-1", "must be >= 0"),
        (":diversity", "property_name must be a non-empty string"),
        ({"property_name": "genres", "op": "diversity", "weight": True}, "not a valid float"),
        ({"property_name": "genres", "op": "diversity", "options": [1]}, "options must be"),
        ({"property_name": "genres"}, "needs 'property_name', 'op'"),
        ({"property_name": "genres", "op": "diversity", "x": 1}, "needs 'property_name'"),
        (
            {"property_name": "g", "op": "diversity", "options": {"activation_period": 2.5}},
            "option activation_period: 2.5 is not a valid int64",
        ),
        (3, "must be a string, an object or a list"),
        ([3], "must be a string or an object"),
    ],
)
def test_reranking_errors(raw: Any, match: str) -> None:
    with wrong(match):
        parse_reranking(raw)


def test_bind_reranking() -> None:
    reranks = parse_reranking("genres:diversity")
    assert bind_reranking(reranks, SPECS) == reranks
    with wrong("unknown property 'nope'"):
        bind_reranking(parse_reranking("nope:diversity"), SPECS)
