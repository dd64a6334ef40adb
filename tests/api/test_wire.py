from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recoapi.api.wire import (
    MAX_ARRAY_ITEMS,
    decode_request,
    encode_response,
    response_format,
    safe_unpickle,
    to_jsonable,
)
from recoapi.errors import WrongData

PKL = "application/xminds-pkl"


def wrong(match: str) -> pytest.RaisesExc[WrongData]:
    return pytest.raises(WrongData, match=match)


# -- hand-made pickle streams (protocol 4 opcodes) --------------------------------------


def text(value: str) -> bytes:
    raw = value.encode()
    return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE


def glob(module: str, name: str) -> bytes:
    return text(module) + text(name) + b"\x93"  # STACK_GLOBAL


def call(func: bytes, *args: bytes) -> bytes:
    return func + b"(" + b"".join(args) + b"tR"  # MARK args TUPLE REDUCE


def stream(body: bytes) -> bytes:
    return b"\x80\x04" + body + b"."


def integer(value: int) -> bytes:
    return b"J" + value.to_bytes(4, "little", signed=True)  # BININT


def raw_bytes(value: bytes) -> bytes:
    return b"C" + bytes([len(value)]) + value  # SHORT_BINBYTES


def dtype_call(code: str) -> bytes:
    return call(glob("numpy", "dtype"), text(code), b"\x89", b"\x88")  # NEWFALSE NEWTRUE


class RunsCommand:
    """Pickles to ``os.system(command)``, the classic pickle exploit."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


# -- safe_unpickle: attacks -------------------------------------------------------------


def test_os_system_pickle_is_refused_and_not_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    payload = pickle.dumps({"items": RunsCommand(f"touch {sentinel}")}, protocol=4)
    with wrong(r"pickle refers to forbidden global '(posix|os)\.system'"):
        safe_unpickle(payload)
    assert not sentinel.exists()
    # control: the same bytes are a working exploit for an unrestricted unpickler
    pickle.loads(payload)
    assert sentinel.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("builtins", "__import__"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
        ("numpy", "frombuffer"),
        ("numpy", "StringDType"),
        ("numpy._core._internal", "_convert_to_stringdtype_kwargs"),
        ("numpy._core.multiarray", "_vec_string"),
        ("numpy.core.multiarray", "__getattribute__"),
        ("numpy.ma.core", "_mareconstruct"),
        ("copyreg", "_reconstructor"),
        ("numpy.ndarray", "__new__"),
    ],
)
def test_forbidden_globals(module: str, name: str, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    payload = stream(call(glob(module, name), text(f"touch {sentinel}")))
    with wrong(f"forbidden global '{module}.{name}'"):
        safe_unpickle(payload)
    assert not sentinel.exists()


def test_protocol_0_global_and_inst_opcodes_are_checked(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    via_global = f"cos\nsystem\n(S'touch {sentinel}'\ntR.".encode()
    via_inst = f"(S'touch {sentinel}'\nios\nsystem\n.".encode()
    for payload in (via_global, via_inst):
        with wrong("forbidden global 'os.system'"):
            safe_unpickle(payload)
    assert not sentinel.exists()


def test_real_stringdtype_and_masked_arrays_are_refused() -> None:
    with wrong("forbidden global 'numpy.ma.core._mareconstruct'"):
        safe_unpickle(pickle.dumps(np.ma.masked_array([1, 2]), protocol=4))
    if hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        payload = pickle.dumps(np.array(["a"], dtype=np.dtypes.StringDType()), protocol=4)
        with wrong("forbidden global"):
            safe_unpickle(payload)


def test_ndarray_marker_cannot_be_called() -> None:
    huge = b"(" + integer(2**30) + integer(2**30) + b"t"
    payload = stream(glob("numpy", "ndarray") + b"(" + huge + b"tR")
    with wrong("not a valid pickle"):
        safe_unpickle(payload)


@pytest.mark.parametrize(
    "args",
    [
        glob("numpy", "ndarray") + b"(" + integer(2**30) + b"t" + raw_bytes(b"b"),
        glob("numpy", "ndarray") + b"(" + integer(0) + integer(0) + b"t" + raw_bytes(b"b"),
        dtype_call("u4") + b"(" + integer(0) + b"t" + raw_bytes(b"b"),
        glob("numpy", "ndarray") + b"(" + integer(0) + b"t" + raw_bytes(b"O"),
    ],
)
def test_reconstruct_only_accepts_what_numpy_emits(args: bytes) -> None:
    payload = stream(glob("numpy.core.multiarray", "_reconstruct") + b"(" + args + b"tR")
    with wrong("rebuilds an array in an unsupported way"):
        safe_unpickle(payload)


@pytest.mark.parametrize("code", ["T", "u3", "object", "V", "i4,i4", "<U5,f8"])
def test_dtype_codes_are_restricted(code: str) -> None:
    with wrong("unsupported dtype"):
        safe_unpickle(stream(dtype_call(code)))


def test_dtype_never_mutates_numpy_singletons() -> None:
    # BUILD with a crafted state on the result must not touch the shared uint32 dtype
    state = b"(" + integer(3) + text(">") + b"NNN" + integer(-1) + integer(-1) + integer(0) + b"t"
    payload = stream(dtype_call("u4") + state + b"b")
    loaded = safe_unpickle(payload)
    assert loaded.byteorder == ">"
    assert np.dtype("u4").byteorder == "="


def test_object_scalars_are_refused() -> None:
    payload = stream(call(glob("numpy._core.multiarray", "scalar"), dtype_call("O8"), b"N"))
    with wrong("numpy scalar of an unsupported dtype"):
        safe_unpickle(payload)
    bad_size = stream(
        call(glob("numpy._core.multiarray", "scalar"), dtype_call("u4"), raw_bytes(b"x"))
    )
    with wrong("numpy scalar from malformed data"):
        safe_unpickle(bad_size)


def test_persistent_ids_are_refused() -> None:
    with wrong("persistent ids"):
        safe_unpickle(b"\x80\x04" + text("x") + b"Q.")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x04",
        pickle.dumps({"a": np.arange(10)}, protocol=4)[:-20],
        b"garbage that is not a pickle",
        b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
        stream(b"t"),
    ],
)
def test_malformed_pickles(data: bytes) -> None:
    with wrong("not a valid pickle"):
        safe_unpickle(data)


def test_object_arrays_only_for_properties() -> None:
    interactions = np.zeros(2, dtype=[("item_id", "u4"), ("properties", "O")])
    interactions["properties"] = [{"price": 3.5}, {"tags": ["a"]}]
    loaded = safe_unpickle(pickle.dumps({"interactions": interactions}, protocol=4))
    assert loaded["interactions"]["properties"].tolist() == [{"price": 3.5}, {"tags": ["a"]}]
    for dtype in (
        [("item_id", "O")],
        [("properties", "O"), ("interaction_type", "O")],
        [("properties", "O", (2,))],
    ):
        data = pickle.dumps(np.zeros(1, dtype=dtype), protocol=4)
        with wrong("object arrays are refused"):
            safe_unpickle(data)
        assert safe_unpickle(data, allow_object=True).dtype == np.dtype(dtype)
    plain = pickle.dumps(np.array([1, "a"], dtype=object), protocol=4)
    with wrong("object arrays are refused"):
        safe_unpickle(plain)
    assert safe_unpickle(plain, allow_object=True).tolist() == [1, "a"]


def test_objects_inside_properties_are_restricted() -> None:
    interactions = np.zeros(1, dtype=[("item_id", "u4"), ("properties", "O")])
    interactions["properties"] = [{"evil": RunsCommand("true")}]
    with wrong("forbidden global"):
        safe_unpickle(pickle.dumps(interactions, protocol=4))


def test_contents_of_object_arrays_are_checked_too() -> None:
    deep: list[Any] = [1]
    for _ in range(40):
        deep = [deep]
    arr = np.empty(1, dtype=object)
    arr[0] = deep
    with wrong("nests deeper"):
        safe_unpickle(pickle.dumps(arr, protocol=4), allow_object=True)


def test_array_length_is_capped() -> None:
    ok = np.zeros(MAX_ARRAY_ITEMS, dtype=bool)
    assert safe_unpickle(pickle.dumps(ok, protocol=4)).size == MAX_ARRAY_ITEMS
    too_long = np.zeros(MAX_ARRAY_ITEMS + 1, dtype=bool)
    with wrong("limited to"):
        safe_unpickle(pickle.dumps(too_long, protocol=4))


def test_nesting_depth_and_cycles() -> None:
    nested: list[Any] = [1]
    for _ in range(31):
        nested = [nested]
    assert safe_unpickle(pickle.dumps(nested, protocol=4)) == nested
    with wrong("nests deeper than 32"):
        safe_unpickle(pickle.dumps([nested], protocol=4))
    cycle: list[Any] = []
    cycle.append(cycle)
    with wrong("reference cycle"):
        safe_unpickle(pickle.dumps(cycle, protocol=4))
    loop: dict[str, Any] = {"a": []}
    loop["a"].append(loop)
    with wrong("reference cycle"):
        safe_unpickle(pickle.dumps(loop, protocol=4))


def test_shared_reference_bomb_is_refused_quickly() -> None:
    bomb: list[Any] = ["x"]
    for _ in range(30):  # 2**30 leaves once expanded, 30 lists in the pickle
        bomb = [bomb, bomb]
    with wrong("holds more than"):
        safe_unpickle(pickle.dumps(bomb, protocol=4))
    shared = [1, 2, 3]
    assert safe_unpickle(pickle.dumps({"a": shared, "b": shared}, protocol=4)) == {
        "a": shared,
        "b": shared,
    }


# -- safe_unpickle: what clients send ---------------------------------------------------


def structured() -> np.ndarray:
    arr = np.zeros(
        3,
        dtype=[
            ("item_id", "<u4"),
            ("year", "<i2"),
            ("rating", "<f4"),
            ("timestamp", "<f8"),
            ("genre", "<U18"),
            ("raw_id", "S16"),
        ],
    )
    arr["item_id"] = [1, 2, 2**32 - 1]
    arr["year"] = [1995, -3, 2000]
    arr["rating"] = [1.5, 10.0, 3.25]
    arr["timestamp"] = [1.6e9, -1.5e11, 0.0]
    arr["genre"] = ["Drama", "Comédie", ""]
    arr["raw_id"] = [b"\x01\x02", b"abc", b"\xff" * 16]
    return arr


def samples() -> list[Any]:
    fortran = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    aligned = np.zeros(2, dtype=np.dtype([("a", "u1"), ("b", "<f8")], align=True))
    aligned["b"] = [1.5, 2.5]
    subarray = np.zeros(2, dtype=[("vec", "<f4", (3,)), ("id", "<u8")])
    subarray["vec"] = [[1, 2, 3], [4, 5, 6]]
    return [
        structured(),
        np.array([1, 2, 3], dtype=np.uint32),
        *[np.array([1, 2], dtype=d) for d in ("i1", "i2", "i4", "i8", "u1", "u2", "u8", "f2")],
        np.array([True, False]),
        np.zeros(0, dtype=np.uint32),
        np.zeros(0, dtype=[("item_id", "<u4"), ("value_id", "<U20")]),
        np.arange(20, dtype=np.int64)[::3],
        fortran,
        aligned,
        np.array([1, 2**31], dtype=">u4"),
        subarray,
        np.array(["2020-01-01", "NaT"], dtype="M8[s]"),
        np.array([1, 2], dtype="m8[ms]"),
        np.array([1 + 2j], dtype=np.complex128),
        np.array(["abc", "é"], dtype="U3"),
        np.array([b"ab", b"\x00c"], dtype="S2"),
        np.uint32(7),
        np.int64(-(2**63)),
        np.float32(0.1),
        np.bool_(True),
        np.str_("héllo"),
        np.bytes_(b"\x01\x02"),
        np.dtype("u4"),
        np.dtype([("a", "<i2"), ("b", "<U3")]),
        {"items": structured(), "items_m2m": [{"name": "genres", "array": structured()}]},
        {"ratings": [{"user_id": 7, "item_id": 1, "rating": 8.0, "timestamp": 1.6e9}]},
        {"a": (1, 2.5, None, True, "x", b"y", frozenset({1}), {2})},
    ]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("obj", samples(), ids=lambda o: type(o).__name__)
def test_numpy_pickles_round_trip(obj: Any) -> None:
    data = pickle.dumps(obj, protocol=4)
    # the oracle is an unrestricted load (numpy may e.g. swap big-endian data to native)
    assert same(safe_unpickle(data), pickle.loads(data))
    assert same(safe_unpickle(data), obj) or obj.dtype.byteorder == ">"


@pytest.mark.parametrize("obj", samples(), ids=lambda o: type(o).__name__)
def test_numpy_1x_spelling_is_accepted(obj: Any) -> None:
    body, _ = encode_response(obj, "pkl")  # written with numpy.core.* names
    assert b"numpy._core" not in body
    assert same(safe_unpickle(body), pickle.loads(body))


def test_other_protocols() -> None:
    obj = {"items_id": np.array([1, 2], dtype=np.uint32), "amt": 8}
    assert same(safe_unpickle(pickle.dumps(obj, protocol=3)), obj)
    # protocol 2 encodes bytes with _codecs.encode, protocol 5 uses numpy's _frombuffer:
    # neither is on the allowlist, and the client always sends protocol 4
    for protocol, name in ((2, "_codecs.encode"), (5, "_frombuffer")):
        with wrong(f"forbidden global '.*{name}'"):
            safe_unpickle(pickle.dumps(obj, protocol=protocol))


# -- decode_request ---------------------------------------------------------------------


def test_empty_bodies_are_empty_dicts() -> None:
    assert decode_request(b"", PKL, "gzip") == ({}, "pkl")
    assert decode_request(b"", None, None) == ({}, "json")
    assert decode_request(zlib.compress(b""), PKL, "gzip") == ({}, "pkl")


def test_pkl_body_as_the_client_sends_it() -> None:
    payload = {"items": structured(), "items_m2m": []}
    body = zlib.compress(pickle.dumps(payload, protocol=4))
    assert body[:1] == b"\x78"
    decoded, fmt = decode_request(body, "application/xminds-pkl", "gzip")
    assert fmt == "pkl" and same(decoded, payload)


@pytest.mark.parametrize(
    "wrap", [lambda b: b, gzip.compress, zlib.compress, lambda b: zlib.compress(b, 9)]
)
def test_pkl_compression_is_sniffed(wrap: Any) -> None:
    body = wrap(pickle.dumps({"amt": 8}, protocol=4))
    assert decode_request(body, "Application/XMinds-Pkl; charset=binary", None) == (
        {"amt": 8},
        "pkl",
    )


def test_json_bodies() -> None:
    body = json.dumps({"ratings": [{"user_id": 7, "rating": 8.0}]}).encode()
    assert decode_request(body, "application/json", None) == (
        {"ratings": [{"user_id": 7, "rating": 8.0}]},
        "json",
    )
    assert decode_request(b'{"a": 1}', None, None) == ({"a": 1}, "json")
    assert decode_request(b'{"a": 1}', "text/plain", None) == ({"a": 1}, "json")
    assert decode_request(gzip.compress(b'{"a": 1}'), "application/json", "gzip")[0] == {"a": 1}


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"a": NaN}', "application/json", "NaN"),
        (b'{"a": Infinity}', None, "Infinity"),
        (b"[1, 2]", "application/json", "must be an object"),
        (b"\xff\xfe{", "application/json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "not valid JSON"),
        (pickle.dumps([1], protocol=4), PKL, "must be an object"),
        (pickle.dumps({"a": 1}, protocol=4), "application/json", "not valid JSON"),
        (zlib.compress(b"x" * 100)[:-5], PKL, "truncated"),
        (b"\x78\x9c" + b"\x00" * 20, PKL, "corrupt"),
        (b"\x1f\x8b" + b"\x00" * 20, PKL, "corrupt"),
    ],
)
def test_bad_bodies(body: bytes, content_type: str | None, match: str) -> None:
    with wrong(match):
        decode_request(body, content_type, None)


def test_size_caps() -> None:
    bomb = zlib.compress(b"\x00" * 2_000_000)
    assert len(bomb) < 10_000
    with wrong("inflates to more than 1000000 bytes"):
        decode_request(bomb, PKL, "gzip", max_bytes=1_000_000)
    with wrong("larger than 100 bytes"):
        decode_request(b"{" + b" " * 200 + b"}", None, None, max_bytes=100)
    exact = pickle.dumps({"a": "x" * 50}, protocol=4)
    body = zlib.compress(exact)
    assert decode_request(body, PKL, None, max_bytes=len(exact))[0] == {"a": "x" * 50}


def test_decode_request_allows_objects_on_request() -> None:
    arr = np.zeros(1, dtype=[("item_id", "u4"), ("interaction_type", "O")])
    arr["interaction_type"] = ["like"]
    body = zlib.compress(pickle.dumps({"interactions": arr}, protocol=4))
    with wrong("object arrays"):
        decode_request(body, PKL, "gzip")
    decoded = decode_request(body, PKL, "gzip", allow_object=True)[0]
    assert decoded["interactions"]["interaction_type"].tolist() == ["like"]


# -- responses --------------------------------------------------------------------------

ALLOWED_RESPONSE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class GlobalsRecorder(pickle.Unpickler):
    """Loads a response like the client does, but records and restricts the globals."""

    seen: set[tuple[str, str]]

    def find_class(self, module: str, name: str) -> Any:
        self.seen.add((module, name))
        assert (module, name) in ALLOWED_RESPONSE_GLOBALS, (module, name)
        return super().find_class(module, name)


def load_response(body: bytes) -> tuple[Any, set[tuple[str, str]]]:
    recorder = GlobalsRecorder(io.BytesIO(body))
    recorder.seen = set()
    return recorder.load(), recorder.seen


def test_pkl_response_uses_numpy_1_names_only() -> None:
    payload = {
        "items_id": np.array([3, 1, 2], dtype=np.uint32),
        "items": structured(),
        "score": np.float32(0.5),
        "next_cursor": "abc",
        "evaluated_scenarios": {},
    }
    body, content_type = encode_response(payload, "pkl")
    assert content_type == "application/xminds-pkl"
    assert body[:2] == b"\x80\x04"
    loaded, seen = load_response(body)
    assert same(loaded, payload)
    assert seen == ALLOWED_RESPONSE_GLOBALS - {("numpy", "dtype")} | {("numpy", "dtype")}


def test_pkl_response_of_plain_values() -> None:
    body, _ = encode_response({"status": "ready", "warnings": []}, "pkl")
    loaded, seen = load_response(body)
    assert loaded == {"status": "ready", "warnings": []} and seen == set()


def test_json_response_conversions() -> None:
    payload = {
        "items_id": np.array([3, 1], dtype=np.uint32),
        "ids": np.array([b"\x01\x02\x03"], dtype="S4"),
        "uuids": np.array(["a-b"], dtype="U36"),
        "items": structured()[:1],
        "score": np.float32(0.5),
        "count": np.int64(4),
        "flag": np.bool_(True),
        "nan": float("nan"),
        "floats": np.array([1.0, np.inf]),
        "raw": b"\xff",
        "tuple": (1, 2),
        "nested": [{"x": np.uint8(1)}],
        b"\x01": 1,
        7: "seven",
    }
    body, content_type = encode_response(payload, "json")
    assert content_type == "application/json"
    assert json.loads(body) == {
        "items_id": [3, 1],
        "ids": ["AQID"],
        "uuids": ["a-b"],
        "items": [
            {
                "item_id": 1,
                "year": 1995,
                "rating": 1.5,
                "timestamp": 1.6e9,
                "genre": "Drama",
                "raw_id": "AQI",
            }
        ],
        "score": 0.5,
        "count": 4,
        "flag": True,
        "nan": None,
        "floats": [1.0, None],
        "raw": "_w",
        "tuple": [1, 2],
        "nested": [{"x": 1}],
        "AQ": 1,
        "7": "seven",
    }


def test_to_jsonable_keeps_plain_values() -> None:
    value = {"a": [1, "b", None, True, 2.5]}
    assert to_jsonable(value) == value


@pytest.mark.parametrize(
    ("accept", "request_format", "expected"),
    [
        ("application/xminds-pkl", "json", "pkl"),
        ("application/json", "pkl", "json"),
        ("application/json, application/xminds-pkl", "json", "pkl"),
        ("*/*", "pkl", "pkl"),
        (None, "json", "json"),
        ("", "pkl", "pkl"),
        ("Application/JSON; q=1", "pkl", "json"),
    ],
)
def test_response_format(accept: str | None, request_format: str, expected: str) -> None:
    assert response_format(accept, request_format) == expected
