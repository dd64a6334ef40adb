from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from recoapi.core.properties import (
    PropertySpec,
    ValueType,
    decode_from_storage,
    encode_for_storage,
    parse_property_name,
    parse_value_type,
)
from recoapi.errors import WrongData


def wrong(match: str) -> pytest.RaisesExc[WrongData]:
    return pytest.raises(WrongData, match=match)


# -- type and name parsing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "dtype", "max_len"),
    [
        ("int8", "int", "i1", None),
        ("INT16", "int", "i2", None),
        ("int64", "int", "i8", None),
        ("uint8", "int", "u1", None),
        ("uint64", "int", "u8", None),
        ("float16", "float", "f2", None),
        ("Float32", "float", "f4", None),
        ("float64", "float", "f8", None),
        ("float", "float", "f4", None),
        ("bool", "bool", "?", None),
        ("unicode18", "unicode", "U18", 18),
        ("Unicode1", "unicode", "U1", 1),
        ("bytes16", "bytes", "S16", 16),
    ],
)
def test_parse_value_type(name: str, kind: str, dtype: str, max_len: int | None) -> None:
    vtype = parse_value_type(name)
    assert (vtype.kind, vtype.dtype, vtype.max_len) == (kind, np.dtype(dtype), max_len)
    assert vtype.name == name.lower()


@pytest.mark.parametrize(
    "name", ["unicode0", "unicode", "bytes0", "unicode65536", "date", "uuid", "int128", "str", ""]
)
def test_parse_value_type_rejects(name: str) -> None:
    with wrong("unknown value_type"):
        parse_value_type(name)
    with wrong("must be a string"):
        parse_value_type(None)


@pytest.mark.parametrize(
    ("name", "expected"), [("Year", "year"), ("release_date_2", "release_date_2")]
)
def test_property_names(name: str, expected: str) -> None:
    assert parse_property_name(name) == expected


@pytest.mark.parametrize("name", ["", "a b", "a:b", "a,b", "a-b", "é", "x" * 65, 3])
def test_property_name_rejects(name: object) -> None:
    with pytest.raises(WrongData):
        parse_property_name(name)


@pytest.mark.parametrize("name", ["item_id", "USER_ID", "item_index", "user_index", "value_id"])
def test_reserved_names(name: str) -> None:
    with wrong("reserved"):
        parse_property_name(name)


def test_property_spec() -> None:
    spec = PropertySpec("Genres", parse_value_type("Unicode18"), True)
    assert spec.name == "genres"
    assert spec.to_public() == {
        "property_name": "genres",
        "value_type": "unicode18",
        "repeated": True,
    }
    user = PropertySpec("age", "uint8", False, indexed=np.bool_(True))  # type: ignore[arg-type]
    assert user.value_type == parse_value_type("uint8")
    assert user.to_public(with_indexed=True)["indexed"] is True
    assert "indexed" not in user.to_public()


def test_property_spec_rejects() -> None:
    with wrong("repeated must be a boolean"):
        PropertySpec("a", parse_value_type("int8"), 1)  # type: ignore[arg-type]
    with wrong("reserved"):
        PropertySpec("item_id", parse_value_type("int8"), False)
    with wrong("unknown value_type"):
        PropertySpec("a", "date", False)  # type: ignore[arg-type]


# -- check_scalar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("int16", 1995, 1995),
        ("int16", np.int64(-5), -5),
        ("int16", 1995.0, 1995),
        ("int16", np.float32(3.0), 3),
        ("uint64", 2**64 - 1, 2**64 - 1),
        ("float32", 1, 1.0),
        ("float32", np.float16(0.5), 0.5),
        ("float64", 1e300, 1e300),
        ("float", 0.1, 0.1),
        ("bool", True, True),
        ("bool", np.bool_(False), False),
        ("unicode5", "héllo", "héllo"),
        ("unicode5", np.str_("ab"), "ab"),
        ("unicode5", "", ""),
        ("bytes4", b"\x00\x01", b"\x00\x01"),
        ("bytes4", np.bytes_(b"ab"), b"ab"),
        ("int8", None, None),
        ("int8", np.array(4), 4),
    ],
)
def test_check_scalar_accepts(type_name: str, value: object, expected: object) -> None:
    checked = parse_value_type(type_name).check_scalar(value, field="p")
    assert checked == expected and type(checked) is type(expected)


@pytest.mark.parametrize(
    ("type_name", "value", "message"),
    [
        ("int16", 70000, "property 'year' at row 3: 70000 is out of range for int16"),
        ("int16", "abc", "property 'year' at row 3: 'abc' is not a valid int16"),
        ("int16", "12", "property 'year' at row 3: '12' is not a valid int16"),
        ("int16", 1.5, "property 'year' at row 3: 1.5 is not an integer, as int16 needs"),
        ("int16", True, "property 'year' at row 3: True is not a valid int16"),
        ("uint8", -1, "property 'year' at row 3: -1 is out of range for uint8"),
        ("int16", math.nan, "property 'year' at row 3: nan is not allowed"),
        ("float32", math.nan, "property 'year' at row 3: nan is not allowed"),
        ("float64", -math.inf, "property 'year' at row 3: -inf is not allowed"),
        ("float16", 70000.0, "property 'year' at row 3: 70000.0 is out of range for float16"),
        ("float32", 10**400, "is out of range for float32"),
        ("float32", "1.0", "'1.0' is not a valid float32"),
        ("float32", False, "False is not a valid float32"),
        ("bool", 1, "property 'year' at row 3: 1 is not a boolean"),
        ("bool", "true", "'true' is not a boolean"),
        ("unicode3", "abcd", "property 'year' at row 3: 'abcd' is longer than 3 characters"),
        ("unicode3", b"ab", "b'ab' is not a string"),
        ("unicode3", 5, "5 is not a string"),
        ("bytes2", b"abc", "property 'year' at row 3: value is longer than 2 bytes"),
        ("bytes2", "YWI", "'YWI' is not bytes"),
    ],
)
def test_check_scalar_rejects(type_name: str, value: object, message: str) -> None:
    with pytest.raises(WrongData) as info:
        parse_value_type(type_name).check_scalar(value, field="year", row=3)
    assert message in info.value.message
    assert info.value.code == 40


def test_check_scalar_without_row() -> None:
    with wrong(r"^property 'year': 70000 is out of range for int16$"):
        parse_value_type("int16").check_scalar(70000, field="year")


def test_bytes_in_json_are_base64() -> None:
    vtype = parse_value_type("bytes4")
    assert vtype.check_scalar("AQID", field="b", fmt="json") == b"\x01\x02\x03"
    with wrong("not unpadded url-safe base64"):
        vtype.check_scalar("A", field="b", fmt="json")
    with wrong("is not an unpadded url-safe base64 string"):
        vtype.check_scalar(1, field="b", fmt="json")


# -- check_array ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "values", "expected"),
    [
        ("int16", np.array([1, -2], dtype=np.int8), [1, -2]),
        ("int16", np.array([1, 2], dtype=">i8"), [1, 2]),
        ("int16", np.array([1.0, 2.0]), [1, 2]),
        ("uint64", np.array([2**64 - 1], dtype=np.uint64), [2**64 - 1]),
        ("int64", np.array([2**63 - 1], dtype=np.uint64), [2**63 - 1]),
        ("float32", np.array([1, 2], dtype=np.int32), [1.0, 2.0]),
        ("float16", np.array([0.5], dtype=np.float64), [0.5]),
        ("bool", np.array([True, False]), [True, False]),
        ("unicode4", np.array(["ab", "abcd"]), ["ab", "abcd"]),
        ("unicode4", np.array(["ab"], dtype="U10"), ["ab"]),
        ("bytes3", np.array([b"a\x00b", b"xyz"]), [b"a\x00b", b"xyz"]),
        ("int8", np.array([], dtype="U3"), []),
    ],
)
def test_check_array_numpy(type_name: str, values: np.ndarray, expected: list[object]) -> None:
    checked = parse_value_type(type_name).check_array(values, field="p")
    assert checked == expected
    assert [type(v) for v in checked] == [type(v) for v in expected]


@pytest.mark.parametrize(
    ("type_name", "values", "message"),
    [
        (
            "int16",
            np.array([1, 70000, 2]),
            "property 'p' at row 1: 70000 is out of range for int16",
        ),
        ("uint8", np.array([3, -1], dtype=np.int8), "at row 1: -1 is out of range for uint8"),
        ("int64", np.array([1, 2**63], dtype=np.uint64), "at row 1: 9223372036854775808 is out"),
        ("int16", np.array([1.0, 1.5]), "at row 1: 1.5 is not an integer"),
        ("int16", np.array([1.0, np.nan]), "at row 1: nan is not allowed"),
        ("int64", np.array([1.0, 2.0**63]), "at row 1: 9223372036854775808 is out of range"),
        ("uint8", np.array([256.0]), "at row 0: 256 is out of range"),
        ("int16", np.array(["1"]), "at row 0: '1' is not a valid int16"),
        ("int16", np.array([True]), "at row 0: True is not a valid int16"),
        ("float32", np.array([1.0, np.inf]), "at row 1: inf is not allowed"),
        ("float16", np.array([1.0, 1e6]), "at row 1: 1000000.0 is out of range for float16"),
        ("float32", np.array([True]), "at row 0: True is not a valid float32"),
        ("bool", np.array([1, 0]), "at row 0: 1 is not a boolean"),
        ("unicode2", np.array(["ab", "abc"]), "at row 1: 'abc' is longer than 2"),
        ("unicode2", np.array([b"ab"]), "at row 0: b'ab' is not a string"),
        ("bytes2", np.array([b"ab", b"abc"]), "at row 1: value is longer than 2 bytes"),
        ("bytes2", np.array(["ab"]), "at row 0: 'ab' is not bytes"),
    ],
)
def test_check_array_numpy_rejects(type_name: str, values: np.ndarray, message: str) -> None:
    with pytest.raises(WrongData) as info:
        parse_value_type(type_name).check_array(values, field="p")
    assert message in info.value.message


@pytest.mark.parametrize(
    ("type_name", "values", "expected"),
    [
        ("int16", [1, None, 3], [1, None, 3]),
        ("int16", [1, 2.0, np.int8(3)], [1, 2, 3]),
        ("uint64", [2**64 - 1, 1], [2**64 - 1, 1]),
        ("float32", [1, 2.5, None], [1.0, 2.5, None]),
        ("bool", [True, None, False], [True, None, False]),
        ("unicode3", ["a", None, "abc"], ["a", None, "abc"]),
        ("bytes2", [b"a", None], [b"a", None]),
        ("int8", [None, None], [None, None]),
        ("int8", [], []),
    ],
)
def test_check_array_lists(type_name: str, values: list[object], expected: list[object]) -> None:
    checked = parse_value_type(type_name).check_array(values, field="p")
    assert checked == expected
    assert [type(v) for v in checked] == [type(v) for v in expected]


@pytest.mark.parametrize(
    ("type_name", "values", "message"),
    [
        ("int16", [1, None, 70000], "property 'p' at row 2: 70000 is out of range for int16"),
        ("int16", [None, 1, "x"], "at row 2: 'x' is not a valid int16"),
        ("int16", [1, True], "at row 1: True is not a valid int16"),
        ("int64", [-1, 2**64 - 1], "at row 1: 18446744073709551615 is out of range"),
        ("int64", [1, 2**70], "at row 1: 1180591620717411303424 is out of range"),
        ("float32", [None, 1.0, math.nan], "at row 2: nan is not allowed"),
        ("float32", [1.0, 10**400], "at row 1: 1000000000000000000000"),
        ("bool", [True, 0], "at row 1: 0 is not a boolean"),
        ("unicode2", [None, "a", "abc"], "at row 2: 'abc' is longer than 2 characters"),
        ("bytes2", [b"a", None, b"abc"], "at row 2: value is longer than 2 bytes"),
    ],
)
def test_check_array_list_rejects(type_name: str, values: list[object], message: str) -> None:
    with pytest.raises(WrongData) as info:
        parse_value_type(type_name).check_array(values, field="p")
    assert message in info.value.message


def test_check_array_bytes_json() -> None:
    vtype = parse_value_type("bytes4")
    assert vtype.check_array(["AQID", None], field="b", fmt="json") == [b"\x01\x02\x03", None]
    with wrong("property 'b' at row 1: 'A' is not unpadded"):
        vtype.check_array(["AQID", "A"], field="b", fmt="json")


def test_check_array_object_array_and_bad_input() -> None:
    vtype = parse_value_type("int8")
    assert vtype.check_array(np.array([1, None], dtype=object), field="p") == [1, None]
    with wrong("1-D"):
        vtype.check_array(np.zeros((2, 2)), field="p")
    with wrong("list or an array"):
        vtype.check_array(5, field="p")


def test_check_array_is_fast() -> None:
    rng = np.random.default_rng(42)
    floats = rng.random(100_000)
    ints = rng.integers(1900, 2020, 100_000)
    int_list = ints.tolist()
    cases = [
        (parse_value_type("float32"), floats),
        (parse_value_type("int16"), ints),
        (parse_value_type("int16"), int_list),
    ]
    for vtype, values in cases:
        best = min(_timed(lambda v=vtype, x=values: v.check_array(x, field="p")) for _ in range(3))
        assert best < 0.1


def _timed(func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    return time.perf_counter() - start


# -- storage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("int64", -(2**63)),
        ("uint64", 2**64 - 1),
        ("float64", 0.1),
        ("float32", float(np.float32(0.1))),
        ("float16", 65504.0),
        ("bool", True),
        ("unicode8", "héllo\u2603"),
        ("bytes4", b"\x00\xff\x01"),
        ("bytes4", [b"a", b"\x00"]),
        ("unicode8", ["a", "b"]),
        ("int8", None),
        ("int8", []),
    ],
)
def test_storage_round_trip(type_name: str, value: object) -> None:
    vtype = parse_value_type(type_name)
    stored = json.loads(json.dumps(encode_for_storage(value)))
    assert decode_from_storage(stored, vtype) == value
    assert type(decode_from_storage(stored, vtype)) is type(value)


def test_encode_numpy_scalars() -> None:
    assert encode_for_storage(np.int16(4)) == 4
    assert type(encode_for_storage(np.float32(0.5))) is float


def test_value_type_is_frozen() -> None:
    vtype = parse_value_type("int8")
    assert isinstance(vtype, ValueType)
    with pytest.raises(AttributeError):
        vtype.name = "int16"  # type: ignore[misc]
