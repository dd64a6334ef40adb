"""The two wire formats (ENDPOINTS.md §1-2): JSON and the Python client's pickles ("pkl").

pkl request bodies are ``zlib.compress(pickle.dumps(data, protocol=4))`` despite the
``Content-Encoding: gzip`` header, so the body is sniffed (zlib ``78``, gzip ``1f 8b``, raw
pickle) rather than trusted. The client unpickles our responses without restriction, but we
never do the same: ``safe_unpickle`` resolves only the six numpy globals that client pickles
use, and everything it returns is walked to enforce size, depth and dtype limits.

Object arrays (dtype ``O``) are refused, except a structured-array field named
``properties`` (interaction bodies, ENDPOINTS.md §2.4) or when the caller passes
``allow_object=True``. Their elements are walked like every other container.

Responses in pkl are written with ``numpy.core`` module names, which numpy 1.26 and 2.x both
load, so clients on either major version can read them.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import re
import zlib
from typing import Any

import numpy as np

from recoapi.core.idtypes import b64_encode
from recoapi.errors import WrongData

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.26
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]

PKL_TYPE = "application/xminds-pkl"
JSON_TYPE = "application/json"
MAX_ARRAY_ITEMS = 10_000_000
MAX_DEPTH = 32
MAX_NODES = 20_000_000
_DTYPE_CODE = re.compile(r"^[<>|=]?(b1|\?|[iuf][1248]|c(8|16|32)|f16|[SUV][0-9]{1,9}|[Mm]8|O8?)$")
_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
_LEAVES = (str, bytes, bytearray, int, float, bool, type(None), np.generic, np.dtype)
_CONTAINERS = (dict, list, tuple, set, frozenset)
_LEAF_TYPES = {str, bytes, bytearray, int, float, bool, type(None), np.dtype} | {
    t for t in set(np.sctypeDict.values()) if issubclass(t, np.generic) and t is not np.object_
}


class _NdarrayMarker:
    """Stands for ``numpy.ndarray`` in a pickle: harmless if a crafted REDUCE calls it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<numpy.ndarray (restricted)>"


_NDARRAY = _NdarrayMarker()


def _reconstruct(cls: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    """``numpy...._reconstruct`` limited to what ``ndarray.__reduce__`` emits."""
    if cls is not _NDARRAY or tuple(shape) != (0,) or dtype_code not in (b"b", "b"):
        raise WrongData("pickle rebuilds an array in an unsupported way")
    return np.ndarray.__new__(np.ndarray, (0,), "b")


def _make_dtype(code: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """``numpy.dtype`` limited to plain type codes; always a fresh copy.

    The copy matters: BUILD then calls ``__setstate__`` on the result, which must never be
    one of numpy's shared built-in dtype singletons.
    """
    if not isinstance(code, str) or not _DTYPE_CODE.match(code):
        raise WrongData(f"pickle uses an unsupported dtype {code!r}")
    return np.dtype(code, bool(align), True)


def _scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy...scalar(dtype, raw bytes)``; never an object scalar (that returns ``data``)."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise WrongData("pickle builds a numpy scalar of an unsupported dtype")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise WrongData("pickle builds a numpy scalar from malformed data")
    return _multiarray.scalar(dtype, data)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _MULTIARRAY and name == "_reconstruct":
            return _reconstruct
        if module in _MULTIARRAY and name == "scalar":
            return _scalar
        if module == "numpy" and name == "ndarray":
            return _NDARRAY
        if module == "numpy" and name == "dtype":
            return _make_dtype
        raise WrongData(f"pickle refers to forbidden global '{module}.{name}'")

    def persistent_load(self, pid: Any) -> Any:
        raise WrongData("pickle uses persistent ids, which are not supported")


def safe_unpickle(data: bytes, *, allow_object: bool = False) -> Any:
    """Unpickle a client body without executing anything but numpy array rebuilding."""
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data)).load()
    except WrongData:
        raise
    except Exception as exc:  # any malformed stream: truncated, garbage, bad numpy state
        raise WrongData(f"the body is not a valid pickle ({type(exc).__name__})") from None
    _check_tree(obj, allow_object)
    return obj


def _check_tree(root: Any, allow_object: bool) -> None:
    """Walk the result once per object: leaf types, arrays, depth and *expanded* size.

    Sizes are memoized per object, so a pickle whose memo shares one list many times
    (a "billion laughs" bomb) is measured as the tree a handler would iterate, cheaply.
    Reference cycles are refused outright.
    """
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    active: set[int] = set()
    stack: list[tuple[Any, int, list[Any] | None, int]] = [(root, 0, None, 0)]
    while stack:
        obj, depth, pending, leaves = stack.pop()
        key = id(obj)
        if pending is not None:  # all children measured
            active.discard(key)
            done[key] = _measure(pending, leaves, done)
        elif key not in done and not isinstance(obj, _LEAVES):
            if key in active:
                raise WrongData("the body contains a reference cycle")
            if depth >= MAX_DEPTH:
                raise WrongData(f"the body nests deeper than {MAX_DEPTH} levels")
            children = _children(obj, allow_object)
            if set(map(type, children)) <= _LEAF_TYPES:  # fast path: dict/list of scalars
                done[key] = (1 + len(children), 1 if children else 0)
                continue
            inner = [c for c in children if not isinstance(c, _LEAVES)]
            active.add(key)
            stack.append((obj, depth, inner, len(children) - len(inner)))
            stack.extend((c, depth + 1, None, 0) for c in inner)


def _measure(inner: list[Any], leaves: int, done: dict[int, tuple[int, int]]) -> tuple[int, int]:
    size, height = 1 + leaves, 1 if leaves else 0
    for child in inner:
        child_size, child_height = done[id(child)]
        size += child_size
        height = max(height, child_height + 1)
    if size > MAX_NODES:
        raise WrongData(f"the body holds more than {MAX_NODES} values")
    return size, height


def _children(obj: Any, allow_object: bool) -> list[Any]:
    if isinstance(obj, np.ndarray):
        return _check_array(obj, allow_object)
    if type(obj) is dict:
        return [*obj, *obj.values()]
    if isinstance(obj, _CONTAINERS):
        return list(obj)
    raise WrongData(f"the body contains an unsupported {type(obj).__name__} object")


def _check_array(arr: np.ndarray, allow_object: bool) -> list[Any]:
    """Limits for one array; returns the Python objects it holds (object fields only)."""
    if type(arr) is not np.ndarray or arr.size > MAX_ARRAY_ITEMS:
        raise WrongData(f"arrays are limited to {MAX_ARRAY_ITEMS} elements")
    if not arr.dtype.hasobject:
        return []
    names = arr.dtype.names or ()
    fields = [name for name in names if arr.dtype[name].hasobject]
    if not allow_object and (fields != ["properties"] or arr.dtype["properties"] != np.dtype("O")):
        raise WrongData(
            "object arrays are refused (only an interaction 'properties' field may be one): "
            "send text as numpy U<n> fields"
        )
    if not names:
        return list(arr.ravel().tolist())
    return [arr[name].ravel().tolist() for name in fields]


# -- requests ---------------------------------------------------------------------------


def request_format(content_type: str | None) -> str:
    """``pkl`` for ``application/xminds-pkl``, ``json`` for anything else or nothing."""
    media = (content_type or "").split(";")[0].strip().lower()
    return "pkl" if media == PKL_TYPE else "json"


def decode_request(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_bytes: int = 256 * 2**20,
    allow_object: bool = False,
) -> tuple[Any, str]:
    """The request payload (``{}`` for an empty body) and its format, ``json`` or ``pkl``.

    ``content_encoding`` is ignored on purpose: the client always claims gzip and sends zlib
    (or nothing on GETs), so the compression is sniffed from the bytes themselves.
    """
    fmt = request_format(content_type)
    if not body:
        return {}, fmt
    if len(body) > max_bytes:
        raise WrongData(f"the body is larger than {max_bytes} bytes")
    raw = _decompress(body, max_bytes)
    if not raw:
        return {}, fmt
    payload = safe_unpickle(raw, allow_object=allow_object) if fmt == "pkl" else _load_json(raw)
    if not isinstance(payload, dict):
        raise WrongData(f"the body must be an object (a dict), not {type(payload).__name__}")
    return payload, fmt


def _decompress(body: bytes, max_bytes: int) -> bytes:
    """Undo zlib or gzip if the magic bytes say so, stopping at ``max_bytes`` of output."""
    if body[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS
    elif body[0] == 0x78:
        wbits = zlib.MAX_WBITS
    else:
        return body
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise WrongData(f"the compressed body is corrupt ({exc})") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise WrongData(f"the body inflates to more than {max_bytes} bytes")
    if not inflater.eof:
        raise WrongData("the compressed body is truncated")
    return out


def _reject_constant(name: str) -> Any:
    raise WrongData(f"the JSON body contains {name}, which is not allowed")


def _load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except WrongData:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, deep nesting
        raise WrongData(f"the body is not valid JSON ({exc})") from None


# -- responses --------------------------------------------------------------------------


def response_format(accept: str | None, request_format: str) -> str:
    """The format named by ``Accept``, else the request's own format."""
    accept = (accept or "").lower()
    if PKL_TYPE in accept:
        return "pkl"
    if JSON_TYPE in accept:
        return "json"
    return request_format


def encode_response(obj: Any, fmt: str) -> tuple[bytes, str]:
    """Serialize a response payload; returns ``(body, content_type)``."""
    if fmt == "pkl":
        body = pickle.dumps(obj, protocol=4)
        if b"numpy._core" in body:  # numpy 2 names: redo with the slower renaming pickler
            buffer = io.BytesIO()
            _CompatPickler(buffer, protocol=4).dump(obj)
            body = buffer.getvalue()
        return body, PKL_TYPE
    try:  # fast path: json calls _json_default only for the values it cannot encode
        text = json.dumps(obj, allow_nan=False, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError):  # NaN, numpy or bytes dict keys: convert everything first
        text = json.dumps(to_jsonable(obj), allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8"), JSON_TYPE


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _array_to_json(value)
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, (bytes, bytearray)):
        return b64_encode(bytes(value))
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_PurePickler: Any = pickle._Pickler


class _CompatPickler(_PurePickler):  # type: ignore[misc]
    """Pure-Python pickler that names ``numpy.core.multiarray`` instead of ``numpy._core``.

    The C pickler cannot be told to write a global under another module name (it checks
    the name resolves to the same object), hence the Python one; responses are small.
    """

    _RENAMED = {
        id(_multiarray._reconstruct): "_reconstruct",
        id(_multiarray.scalar): "scalar",
    }

    def save_global(self, obj: Any, name: str | None = None) -> None:
        qualname = self._RENAMED.get(id(obj))
        if qualname is None:
            super().save_global(obj, name)
            return
        self.save("numpy.core.multiarray")
        self.save(qualname)
        self.write(pickle.STACK_GLOBAL)
        self.memoize(obj)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values: arrays to lists, numpy scalars to Python, bytes to base64,
    non-finite floats to None."""
    if isinstance(obj, dict):
        return {_json_key(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _array_to_json(obj)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, (bytes, bytearray)):
        return b64_encode(bytes(obj))
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _array_to_json(arr: np.ndarray) -> Any:
    if arr.dtype.names is not None:
        names = arr.dtype.names
        return [to_jsonable(dict(zip(names, row, strict=True))) for row in arr.ravel().tolist()]
    if arr.dtype.kind in "iub" or (arr.dtype.kind == "U" and arr.ndim == 1):
        return arr.tolist()
    if arr.dtype.kind == "f" and np.isfinite(arr).all():
        return arr.tolist()
    return to_jsonable(arr.tolist())


def _json_key(key: Any) -> Any:
    if isinstance(key, np.generic):
        key = key.item()
    return b64_encode(key) if isinstance(key, bytes) else key
