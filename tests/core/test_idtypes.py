from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

from recoapi.core.idtypes import IdType, b64_decode, b64_encode, parse_id_type
from recoapi.errors import WrongData

INT_NAMES = [f"{p}int{b}" for p in ("", "u") for b in (8, 16, 32, 64)]


def wrong(match: str) -> pytest.RaisesExc[WrongData]:
    return pytest.raises(WrongData, match=match)


# -- parse_id_type ----------------------------------------------------------------------


@pytest.mark.parametrize("name", INT_NAMES)
def test_parse_int_types(name: str) -> None:
    id_type = parse_id_type(name.upper())
    assert (id_type.name, id_type.kind) == (name, "int")
    assert id_type.wire_dtype == np.dtype(name)


@pytest.mark.parametrize(
    ("name", "kind", "size", "dtype"),
    [
        ("uuid", "uuid", 36, "U36"),
        ("hex8", "hex", 8, "U8"),
        ("HEX64", "hex", 64, "U64"),
        ("urlsafe1", "urlsafe", 1, "U1"),
        ("bytes16", "bytes", 16, "S16"),
    ],
)
def test_parse_sized_types(name: str, kind: str, size: int, dtype: str) -> None:
    id_type = parse_id_type(name)
    assert (id_type.kind, id_type.size, id_type.wire_dtype) == (kind, size, np.dtype(dtype))
    assert id_type.array_dtype == np.dtype(object)


@pytest.mark.parametrize(
    "name",
    ["int128", "uint", "hex0", "hex65", "bytes", "urlsafe100", "float", "", "str", "bytes064"],
)
def test_parse_unknown_type(name: str) -> None:
    with wrong("unknown id type") as info:
        parse_id_type(name)
    assert info.value.code == 40


def test_parse_non_string() -> None:
    with wrong("must be a string"):
        parse_id_type(32)  # type: ignore[arg-type]


def test_array_dtype_of_ints() -> None:
    assert parse_id_type("uint32").array_dtype == np.int64
    assert parse_id_type("int8").array_dtype == np.int64
    assert parse_id_type("uint64").array_dtype == np.uint64


# -- from_path --------------------------------------------------------------------------


def test_int_from_path() -> None:
    assert parse_id_type("uint32").from_path("7") == 7
    assert parse_id_type("int8").from_path("-128") == -128
    assert parse_id_type("uint64").from_path(str(2**64 - 1)) == 2**64 - 1


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("uint32", "0", "non-zero"),
        ("uint32", "-1", "out of range for uint32"),
        ("int8", "128", "out of range for int8"),
        ("uint32", "4294967296", "out of range"),
        ("uint32", "abc", "'abc' is not a valid uint32"),
        ("uint32", "1.5", "not a valid"),
        ("uint32", "", "not a valid"),
        ("uint32", " 7", "not a valid"),
        ("uint32", "+7", "not a valid"),
    ],
)
def test_int_from_path_errors(name: str, text: str, match: str) -> None:
    with wrong(match):
        parse_id_type(name).from_path(text)


def test_uuid_from_path_is_lowercased() -> None:
    text = "0C0B6D5E-AAAA-4BBB-8CCC-0123456789AB"
    assert parse_id_type("uuid").from_path(text) == text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "0c0b6d5eaaaa4bbb8ccc0123456789ab",
        "0c0b6d5e-aaaa-4bbb-8ccc-0123456789a",
        "0c0b6d5e-aaaa-4bbb-8ccc-0123456789abc",
        "0c0b6d5e-aaaa-4bbb-8ccc-0123456789ag",
        "0c0b6d5e-aaaa-4bbb8-ccc-0123456789ab",
        "-c0b6d5e-aaaa-4bbb-8ccc-0123456789ab",
    ],
)
def test_uuid_from_path_errors(text: str) -> None:
    with wrong("is not a valid uuid id"):
        parse_id_type("uuid").from_path(text)


def test_hex_from_path_is_uppercased() -> None:
    assert parse_id_type("hex8").from_path("abCD12") == "ABCD12"
    assert parse_id_type("hex8").from_path("f") == "F"


@pytest.mark.parametrize("text", ["", "abcdef012", "xyz", "ab cd", "é"])
def test_hex_from_path_errors(text: str) -> None:
    with wrong("is not a valid hex8 id"):
        parse_id_type("hex8").from_path(text)


def test_urlsafe_from_path() -> None:
    assert parse_id_type("urlsafe12").from_path("aZ09._-") == "aZ09._-"


@pytest.mark.parametrize("text", ["", "a/b", "a b", "a+b", "abcdefghijklm", "é", "a\x00b"])
def test_urlsafe_from_path_errors(text: str) -> None:
    with wrong("not a valid urlsafe12 id"):
        parse_id_type("urlsafe12").from_path(text)


def test_bytes_from_path() -> None:
    bytes4 = parse_id_type("bytes4")
    assert bytes4.from_path("AQID") == b"\x01\x02\x03"
    assert bytes4.from_path("AQ") == b"\x01"
    assert bytes4.from_path("AQ==") == b"\x01"
    assert bytes4.from_path("_-8") == b"\xff\xef"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("A", "base64"),
        ("AQ+/", "base64"),
        ("AQ===", "base64"),
        ("", "1 to 4 bytes"),
        ("AQIDBAU", "1 to 4 bytes"),
    ],
)
def test_bytes_from_path_errors(text: str, match: str) -> None:
    with wrong(match) as info:
        parse_id_type("bytes4").from_path(text)
    assert "id in the path" in info.value.message


# -- from_body --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [7, np.uint32(7), np.int8(7), "7", np.str_("7"), np.array(7, dtype=np.uint16)]
)
def test_int_from_body(value: object) -> None:
    key = parse_id_type("uint32").from_body(value, "item_id", "pkl")
    assert key == 7 and type(key) is int


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (True, "not a boolean"),
        (np.bool_(True), "not a boolean"),
        (7.0, "must be an integer"),
        (None, "must be an integer"),
        (b"7", "must be an integer"),
        (-3, "item_id is out of range for uint32"),
        (0, "item_id is 0"),
    ],
)
def test_int_from_body_errors(value: object, match: str) -> None:
    with wrong(match):
        parse_id_type("uint32").from_body(value, "item_id", "json")


def test_text_from_body() -> None:
    uid = uuid.uuid4()
    uuid_type = parse_id_type("uuid")
    assert uuid_type.from_body(str(uid).upper(), "user_id", "json") == str(uid)
    assert uuid_type.from_body(str(uid).encode(), "user_id", "pkl") == str(uid)
    assert parse_id_type("hex4").from_body(np.str_("beef"), "item_id", "pkl") == "BEEF"
    with wrong("user_id must be a string"):
        uuid_type.from_body(12, "user_id", "json")
    with wrong("not ASCII"):
        parse_id_type("urlsafe4").from_body("é".encode(), "user_id", "pkl")


def test_bytes_from_body_depends_on_format() -> None:
    bytes4 = parse_id_type("bytes4")
    assert bytes4.from_body("AQID", "item_id", "json") == b"\x01\x02\x03"
    assert bytes4.from_body(b"\x01\x02", "item_id", "pkl") == b"\x01\x02"
    assert bytes4.from_body(np.bytes_(b"ab"), "item_id", "pkl") == b"ab"
    with wrong("item_id must be bytes"):
        bytes4.from_body("AQID", "item_id", "pkl")
    with wrong("item_id must be a base64 string"):
        bytes4.from_body(b"\x01", "item_id", "json")
    with wrong("1 to 4 bytes"):
        bytes4.from_body(b"12345", "item_id", "pkl")


# -- from_body_array: integers ----------------------------------------------------------


@pytest.mark.parametrize("dtype", ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", ">u4"])
def test_int_array_of_any_dtype(dtype: str) -> None:
    keys = parse_id_type("uint32").from_body_array(np.array([1, 5, 100], dtype=dtype), "x", "pkl")
    assert keys.dtype == np.int64
    assert keys.tolist() == [1, 5, 100]


def test_negative_into_uint32_names_the_row() -> None:
    values = np.arange(1, 20, dtype=np.int64)
    values[12] = -1
    with wrong(r"^item_id at row 12 is out of range for uint32 \(got -1\)$"):
        parse_id_type("uint32").from_body_array(values, "item_id", "pkl")


@pytest.mark.parametrize(
    ("name", "values", "row"),
    [
        ("uint32", np.array([1, 2**32], dtype=np.uint64), 1),
        ("int64", np.array([1, 2**63], dtype=np.uint64), 1),
        ("int8", np.array([5, -128, -129], dtype=np.int16), 2),
        ("uint8", np.array([255, 256], dtype=np.uint16), 1),
        ("int32", np.array([3, 0], dtype=np.int32), 1),
        ("uint64", np.array([7, -1], dtype=np.int64), 1),
    ],
)
def test_int_array_range(name: str, values: np.ndarray, row: int) -> None:
    with wrong(f"user_id at row {row} "):
        parse_id_type(name).from_body_array(values, "user_id", "pkl")


def test_uint64_array_keeps_large_values() -> None:
    values = np.array([1, 2**64 - 1, 2**63], dtype=np.uint64)
    keys = parse_id_type("uint64").from_body_array(values, "item_id", "pkl")
    assert keys.dtype == np.uint64
    assert keys.tolist() == [1, 2**64 - 1, 2**63]


def test_int_lists() -> None:
    uint64 = parse_id_type("uint64")
    assert uint64.from_body_array([1, 2**64 - 1], "x", "json").tolist() == [1, 2**64 - 1]
    assert parse_id_type("int16").from_body_array([-3, "4", np.int8(5)], "x", "pkl").tolist() == [
        -3,
        4,
        5,
    ]
    with wrong("x at row 1 is out of range"):
        parse_id_type("int64").from_body_array([-1, 2**64 - 1], "x", "json")
    with wrong("x at row 2 must be an integer, not a boolean"):
        parse_id_type("int64").from_body_array([1, 2, True], "x", "json")
    with wrong("x at row 1 must be an integer"):
        parse_id_type("int64").from_body_array([1, 2.0], "x", "json")


@pytest.mark.parametrize(
    "values", [np.array([1.0, 2.0]), np.array([True]), np.array(["1"]), np.array([b"1"])]
)
def test_int_array_wrong_dtype(values: np.ndarray) -> None:
    with wrong("cannot hold uint32 ids"):
        parse_id_type("uint32").from_body_array(values, "x", "pkl")


def test_empty_and_malformed_columns() -> None:
    assert parse_id_type("uint32").from_body_array([], "x", "json").dtype == np.int64
    assert parse_id_type("uuid").from_body_array(np.array([], dtype="U36"), "x", "pkl").size == 0
    with wrong("1-D"):
        parse_id_type("uint32").from_body_array(np.ones((2, 2), dtype=np.uint32), "x", "pkl")
    with wrong("list or an array"):
        parse_id_type("uint32").from_body_array(7, "x", "pkl")


def test_object_array_goes_row_by_row() -> None:
    values = np.array([1, np.uint8(3), "4"], dtype=object)
    assert parse_id_type("uint8").from_body_array(values, "x", "pkl").tolist() == [1, 3, 4]


def test_int_array_is_fast() -> None:
    values = np.arange(1, 100_001, dtype=np.int64)
    id_type = parse_id_type("uint32")
    best = min(_timed(lambda: id_type.from_body_array(values, "x", "pkl")) for _ in range(5))
    assert best < 0.05


def _timed(func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    return time.perf_counter() - start


# -- from_body_array: text and bytes ----------------------------------------------------


def test_uuid_array_is_canonical_str_objects() -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    keys = parse_id_type("uuid").from_body_array(np.array([i.upper() for i in ids]), "x", "pkl")
    assert keys.dtype == object
    assert keys.tolist() == ids
    assert all(type(k) is str for k in keys)


def test_hex_and_urlsafe_arrays() -> None:
    hex_keys = parse_id_type("hex6").from_body_array(np.array([b"ab", b"c0ffee"]), "x", "pkl")
    assert hex_keys.tolist() == ["AB", "C0FFEE"]
    url_keys = parse_id_type("urlsafe8").from_body_array(["a.b", "Z-_9"], "x", "json")
    assert url_keys.tolist() == ["a.b", "Z-_9"]


@pytest.mark.parametrize(
    ("name", "values", "row"),
    [
        ("hex4", np.array(["ab", "abcde"]), 1),
        ("hex4", np.array(["ab", "", "cd"]), 1),
        ("hex4", np.array(["ab", "cd", "xy"]), 2),
        ("hex4", np.array(["ab", "a\x00b"]), 1),
        ("urlsafe8", np.array(["ok", "é"]), 1),
        ("urlsafe8", np.array(["ok", "a/b"]), 1),
        ("uuid", np.array([str(uuid.uuid4()), "x" * 36]), 1),
        ("uuid", np.array([str(uuid.uuid4()), str(uuid.uuid4())[:-1] + "-"]), 1),
        ("uuid", np.array([str(uuid.uuid4())[:30]]), 0),
    ],
)
def test_text_array_errors_name_the_row(name: str, values: np.ndarray, row: int) -> None:
    with wrong(f"^item_id at row {row}: .* is not a valid {name} id$"):
        parse_id_type(name).from_body_array(values, "item_id", "pkl")


def test_text_array_non_ascii_bytes() -> None:
    with wrong("non-ASCII"):
        parse_id_type("hex4").from_body_array(np.array([b"\xff"]), "x", "pkl")


def test_text_list_with_other_types_goes_row_by_row() -> None:
    with wrong("x at row 1 must be a string"):
        parse_id_type("urlsafe4").from_body_array(["ab", 3], "x", "json")
    assert parse_id_type("hex4").from_body_array(["ab", b"cd"], "x", "pkl").tolist() == [
        "AB",
        "CD",
    ]


def test_bytes_arrays() -> None:
    bytes4 = parse_id_type("bytes4")
    keys = bytes4.from_body_array(np.array([b"\x01\x00\x02", b"abcd"]), "x", "pkl")
    assert keys.tolist() == [b"\x01\x00\x02", b"abcd"]
    assert bytes4.from_body_array(["AQID", "YWJjZA"], "x", "json").tolist() == [
        b"\x01\x02\x03",
        b"abcd",
    ]
    assert bytes4.from_body_array([b"\x01", b"\x02"], "x", "pkl").tolist() == [b"\x01", b"\x02"]


@pytest.mark.parametrize(
    ("values", "row"),
    [
        (np.array([b"ab", b"abcde"]), 1),
        (np.array([b"ab", b""]), 1),
        (np.array([b"ab", b"\x00\x00"]), 1),
    ],
)
def test_bytes_array_errors(values: np.ndarray, row: int) -> None:
    with wrong(f"x at row {row} must hold 1 to 4 bytes"):
        parse_id_type("bytes4").from_body_array(values, "x", "pkl")


def test_bytes_array_wrong_format() -> None:
    with wrong("x at row 0 must be bytes"):
        parse_id_type("bytes4").from_body_array(["AQID"], "x", "pkl")
    with wrong("cannot hold bytes4 ids"):
        parse_id_type("bytes4").from_body_array(np.array(["AQID"]), "x", "pkl")


def test_text_arrays_are_fast() -> None:
    values = np.array([str(uuid.uuid4()).upper() for _ in range(100_000)])
    id_type = parse_id_type("uuid")
    best = min(_timed(lambda: id_type.from_body_array(values, "x", "pkl")) for _ in range(3))
    assert best < 0.5  # mostly the cost of creating 100k Python str objects


# -- output and storage -----------------------------------------------------------------


def test_to_wire_pkl_dtypes() -> None:
    assert parse_id_type("uint32").to_wire(np.array([1, 2], np.int64), "pkl").dtype == np.uint32
    assert parse_id_type("uint64").to_wire([2**64 - 1], "pkl").tolist() == [2**64 - 1]
    assert parse_id_type("int8").to_wire([], "pkl").dtype == np.int8
    uid = str(uuid.uuid4())
    uuids = parse_id_type("uuid").to_wire(np.array([uid], dtype=object), "pkl")
    assert uuids.dtype == np.dtype("U36") and uuids[0] == uid
    assert parse_id_type("hex8").to_wire(["AB"], "pkl").dtype == np.dtype("U8")
    raw = parse_id_type("bytes4").to_wire([b"\x01\x02"], "pkl")
    assert raw.dtype == np.dtype("S4") and raw[0] == b"\x01\x02"


def test_to_wire_json_lists() -> None:
    ints = parse_id_type("uint32").to_wire(np.array([1, 2], np.int64), "json")
    assert ints == [1, 2] and all(type(v) is int for v in ints)
    assert parse_id_type("hex4").to_wire(np.array(["AB"], dtype=object), "json") == ["AB"]
    assert parse_id_type("bytes4").to_wire([b"\x01\x02\x03"], "json") == ["AQID"]


def test_key_to_wire() -> None:
    assert parse_id_type("uint32").key_to_wire(4, "pkl") == 4
    assert parse_id_type("bytes4").key_to_wire(b"\x01\x02\x03", "json") == "AQID"
    assert parse_id_type("bytes4").key_to_wire(b"\x01", "pkl") == b"\x01"
    assert parse_id_type("uuid").key_to_wire("a", "json") == "a"


@pytest.mark.parametrize(
    ("name", "key", "stored"),
    [
        ("uint64", 2**64 - 1, -1),
        ("uint64", 2**63, -(2**63)),
        ("uint64", 2**63 - 1, 2**63 - 1),
        ("int64", -(2**63), -(2**63)),
        ("uint32", 7, 7),
        ("bytes4", b"\x00\x01", b"\x00\x01"),
        ("hex4", "AB", "AB"),
    ],
)
def test_db_round_trip(name: str, key: object, stored: object) -> None:
    id_type = parse_id_type(name)
    assert id_type.to_db(key) == stored  # type: ignore[arg-type]
    assert id_type.from_db(stored) == key


def test_db_round_trip_vectorized() -> None:
    uint64 = parse_id_type("uint64")
    keys = np.array([1, 2**64 - 1], dtype=np.uint64)
    stored = uint64.keys_to_db(keys)
    assert stored.dtype == np.int64 and stored.tolist() == [1, -1]
    assert uint64.keys_from_db(stored).tolist() == [1, 2**64 - 1]
    assert parse_id_type("int32").keys_from_db(np.array([1, -5])).tolist() == [1, -5]


def test_b64_helpers() -> None:
    for data in (b"", b"\x00", b"\xff\xfe", bytes(range(64))):
        assert "=" not in b64_encode(data)
        assert b64_decode(b64_encode(data), "x") == data


def test_id_type_is_frozen_and_hashable() -> None:
    id_type = parse_id_type("uint32")
    assert id_type == IdType("uint32", "int", 32)
    assert hash(id_type) == hash(parse_id_type("UINT32"))
