"""Item/user property definitions and the validation of their values.

Value types follow numpy names (ENDPOINTS.md §6): ``int8..int64``, ``uint8..uint64``,
``float16/32/64`` (``float`` is an alias of ``float32``), ``bool``, ``unicode<N>``
(numpy ``U<N>``) and ``bytes<N>`` (numpy ``S<N>``), with ``1 <= N <= 65535``. Type names
are case-insensitive and keep the (lowercased) spelling they were declared with, so a
property declared ``float`` reads back as ``float``.

Property names are case-insensitive too: they are lowercased and must then match
``^[a-z0-9_]{1,64}$``. That keeps them safe in filter strings (``:`` and ``,`` are
separators), SQL identifiers and URL paths. Names of id/array fields are reserved.

Values are checked strictly: no NaN or infinity anywhere, booleans only for ``bool``,
no strings for numbers. The one leniency is integral floats (``1995.0``) for integer
properties, because pandas turns integer columns with holes into floats. ``None`` means
"no value" and passes through. Row numbers in messages are 0-based.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recoapi.core.idtypes import b64_decode, b64_encode
from recoapi.errors import WrongData

RESERVED_NAMES = frozenset({"item_id", "user_id", "item_index", "user_index", "value_id"})
MAX_LEN = 65535
_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
_SIZED = re.compile(r"^(unicode|bytes)([0-9]{1,5})$")
_SIMPLE = {
    **{f"{p}int{b}": ("int", f"{p}int{b}") for p in ("", "u") for b in (8, 16, 32, 64)},
    **{f"float{b}": ("float", f"float{b}") for b in (16, 32, 64)},
    "float": ("float", "float32"),
    "bool": ("bool", "bool"),
}
_FAST_TYPES: dict[str, set[type]] = {
    "int": {int},
    "float": {int, float},
    "bool": {bool},
    "unicode": {str},
}
_ARRAY_KINDS = {"int": "iuf", "float": "iuf", "bool": "b", "unicode": "U", "bytes": "S"}
_LIST_KINDS = {"int": "iu", "float": "f", "bool": "b"}


def parse_property_name(name: Any) -> str:
    """Lowercased property name, or WrongData if it is not allowed."""
    if not isinstance(name, str):
        raise WrongData(f"property_name must be a string, not {name!r}")
    low = name.strip().lower()
    if not _NAME.match(low):
        raise WrongData(
            f"invalid property name {name!r}: use 1 to 64 letters, digits or underscores"
        )
    if low in RESERVED_NAMES:
        raise WrongData(f"property name {name!r} is reserved")
    return low


def parse_value_type(name: Any) -> ValueType:
    """The ``ValueType`` for a declared type name (``int16``, ``unicode18``, ``float``...)."""
    if not isinstance(name, str):
        raise WrongData(f"value_type must be a string, not {name!r}")
    low = name.strip().lower()
    if low in _SIMPLE:
        kind, dtype = _SIMPLE[low]
        return ValueType(low, kind, np.dtype(dtype))
    match = _SIZED.match(low)
    if match and 1 <= int(match.group(2)) <= MAX_LEN:
        size = int(match.group(2))
        kind = match.group(1)
        sized = np.dtype(f"U{size}" if kind == "unicode" else f"S{size}")
        return ValueType(f"{kind}{size}", kind, sized, size)
    raise WrongData(
        f"unknown value_type {name!r}: use int8..int64, uint8..uint64, float16/32/64, "
        f"float, bool, unicode<N> or bytes<N> (1 <= N <= {MAX_LEN})"
    )


@dataclass(frozen=True)
class ValueType:
    """A property value type. ``dtype`` is also the pkl wire dtype of its values."""

    name: str
    kind: str
    dtype: np.dtype
    max_len: int | None = None

    def check_scalar(
        self, value: Any, *, field: str, row: int | None = None, fmt: str = "pkl"
    ) -> Any:
        """Validate one value and return it as a plain Python value (None passes)."""
        label = f"property '{field}'" if row is None else f"property '{field}' at row {row}"
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, np.generic):  # plain Python values, also in messages
            value = value.item()
        if value is None:
            return None
        checker = getattr(self, f"_scalar_{self.kind}")
        return checker(value, label, fmt)

    def _scalar_int(self, value: Any, label: str, fmt: str) -> int:
        if isinstance(value, float):
            value = self._integral_float(value, label)
        if isinstance(value, bool) or not isinstance(value, int):
            raise WrongData(f"{label}: {value!r} is not a valid {self.name}")
        info = np.iinfo(self.dtype)
        if not int(info.min) <= int(value) <= int(info.max):
            raise WrongData(f"{label}: {value} is out of range for {self.name}")
        return int(value)

    def _integral_float(self, value: float, label: str) -> int:
        if not math.isfinite(value):
            raise WrongData(f"{label}: {value} is not allowed (NaN and infinity are refused)")
        if not value.is_integer():
            raise WrongData(f"{label}: {value} is not an integer, as {self.name} needs")
        return int(value)

    def _scalar_float(self, value: Any, label: str, fmt: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise WrongData(f"{label}: {value!r} is not a valid {self.name}")
        try:
            number = float(value)
        except OverflowError:  # a Python int beyond float64
            raise WrongData(f"{label}: {value} is out of range for {self.name}") from None
        if not math.isfinite(number):
            raise WrongData(f"{label}: {value} is not allowed (NaN and infinity are refused)")
        if _overflows(np.array([number]), self.dtype)[0]:
            raise WrongData(f"{label}: {value} is out of range for {self.name}")
        return number

    def _scalar_bool(self, value: Any, label: str, fmt: str) -> bool:
        if not isinstance(value, bool):
            raise WrongData(f"{label}: {value!r} is not a boolean")
        return bool(value)

    def _scalar_unicode(self, value: Any, label: str, fmt: str) -> str:
        if not isinstance(value, str):
            raise WrongData(f"{label}: {value!r} is not a string")
        if len(value) > (self.max_len or 0):
            raise WrongData(f"{label}: {value!r} is longer than {self.max_len} characters")
        return str(value)

    def _scalar_bytes(self, value: Any, label: str, fmt: str) -> bytes:
        if fmt == "json" and isinstance(value, str):
            value = b64_decode(value, label)
        if not isinstance(value, bytes):
            want = "an unpadded url-safe base64 string" if fmt == "json" else "bytes"
            raise WrongData(f"{label}: {value!r} is not {want}")
        if len(value) > (self.max_len or 0):
            raise WrongData(f"{label}: value is longer than {self.max_len} bytes")
        return bytes(value)

    def check_array(self, values: Any, *, field: str, fmt: str = "pkl") -> list[Any]:
        """Validate a column (numpy array or list); returns plain Python values.

        Numpy arrays and homogeneous lists are checked with numpy; other lists row by row.
        Bytes values come back as ``bytes``: pass them through ``encode_for_storage``.
        """
        if isinstance(values, np.ndarray):
            if values.ndim != 1:
                raise WrongData(f"property '{field}' must be a 1-D array")
            if values.dtype.kind != "O":
                return self._check_typed(values, field, fmt)
            values = values.tolist()
        if not isinstance(values, (list, tuple)):
            raise WrongData(f"property '{field}' must be a list or an array of values")
        return self._check_list(list(values), field, fmt)

    def _check_list(self, values: list[Any], field: str, fmt: str) -> list[Any]:
        fast: set[type] = _FAST_TYPES.get(self.kind, {bytes} if fmt != "json" else set())
        all_types = set(map(type, values))
        types = all_types - {type(None)}
        if not types or not types <= fast:
            return self._row_by_row(values, field, fmt, range(len(values)))
        if len(types) == len(all_types):
            return self._check_present(values, field, fmt, None)
        rows = [i for i, v in enumerate(values) if v is not None]
        checked = self._check_present([values[i] for i in rows], field, fmt, rows)
        out: list[Any] = [None] * len(values)
        for i, v in zip(rows, checked, strict=True):
            out[i] = v
        return out

    def _row_by_row(
        self, values: Sequence[Any], field: str, fmt: str, rows: Sequence[int]
    ) -> list[Any]:
        return [
            self.check_scalar(v, field=field, row=r, fmt=fmt)
            for v, r in zip(values, rows, strict=True)
        ]

    def _check_present(
        self, values: list[Any], field: str, fmt: str, rows: Sequence[int] | None
    ) -> list[Any]:
        """Vectorized checks of a list of one Python type; ``rows`` maps positions to rows."""
        if self.kind in ("unicode", "bytes"):
            lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
            bad = np.flatnonzero(lengths > (self.max_len or 0))
            if len(bad):
                self._fail_at(values, int(bad[0]), field, fmt, rows)
            return [str(v) if self.kind == "unicode" else bytes(v) for v in values]
        try:
            arr = np.array(values, dtype=np.float64 if self.kind == "float" else None)
        except OverflowError:  # Python ints beyond 64 bits
            arr = np.array(values, dtype=object)
        if arr.dtype.kind not in _LIST_KINDS[self.kind]:
            return self._row_by_row(values, field, fmt, rows or range(len(values)))
        return self._check_typed(arr, field, fmt, rows)

    def _check_typed(
        self, arr: np.ndarray, field: str, fmt: str, rows: Sequence[int] | None = None
    ) -> list[Any]:
        """Vectorized checks of a non-object numpy array."""
        if len(arr) == 0:
            return []
        if arr.dtype.kind not in _ARRAY_KINDS[self.kind]:
            self._fail_at(arr, 0, field, fmt, rows)
        bad = self._bad_rows(arr)
        if bad.any():
            self._fail_at(arr, int(np.flatnonzero(bad)[0]), field, fmt, rows)
        if self.kind == "int":
            arr = arr.astype(np.uint64 if self.name == "uint64" else np.int64)
        elif self.kind == "float":
            arr = arr.astype(np.float64)
        values: list[Any] = arr.tolist()
        return values

    def _bad_rows(self, arr: np.ndarray) -> np.ndarray:
        bad: np.ndarray
        kind = arr.dtype.kind
        if self.kind in ("unicode", "bytes"):
            if arr.dtype.itemsize // (4 if kind == "U" else 1) <= (self.max_len or 0):
                return np.zeros(len(arr), dtype=bool)
            bad = np.char.str_len(arr) > (self.max_len or 0)
            return bad
        if self.kind == "bool":
            return np.zeros(len(arr), dtype=bool)
        if kind == "f":
            bad = ~np.isfinite(arr)
            with np.errstate(invalid="ignore"):
                if self.kind == "int":
                    bad |= (np.floor(arr) != arr) | _float_outside_int(arr, self.dtype)
                else:
                    bad |= _overflows(arr, self.dtype)
            return bad
        if self.kind == "int":
            return _int_outside(arr, self.dtype)
        return _overflows(arr.astype(np.float64), self.dtype)

    def _fail_at(
        self, values: Any, i: int, field: str, fmt: str, rows: Sequence[int] | None
    ) -> None:
        """Raise the scalar check's message for the bad value at position ``i``."""
        row = i if rows is None else rows[i]
        self.check_scalar(values[i], field=field, row=row, fmt=fmt)
        raise WrongData(f"property '{field}' at row {row}: invalid {self.name} value")


def _overflows(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Finite values that become infinite in ``dtype``."""
    if dtype == np.float64:
        return np.zeros(len(arr), dtype=bool)
    with np.errstate(over="ignore"):
        over: np.ndarray = np.isinf(arr.astype(dtype)) & np.isfinite(arr)
    return over


def _int_outside(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Out-of-range mask computed in the array's own 64-bit dtype (no float rounding)."""
    info = np.iinfo(dtype)
    if arr.dtype.kind == "u":
        wide = arr.astype(np.uint64)
        return wide > np.uint64(info.max)
    wide = arr.astype(np.int64)
    low = wide < np.int64(max(int(info.min), -(2**63)))
    return low | (wide > np.int64(min(int(info.max), 2**63 - 1)))


def _float_outside_int(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    # max + 1 is a power of two, exact in float64, whereas float(max) may round up to it
    info = np.iinfo(dtype)
    return (arr < float(info.min)) | (arr >= float(int(info.max) + 1))


@dataclass(frozen=True)
class PropertySpec:
    """A declared property. The name is normalised; ``indexed`` only matters for users."""

    name: str
    value_type: ValueType
    repeated: bool
    indexed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", parse_property_name(self.name))
        if isinstance(self.value_type, str):
            object.__setattr__(self, "value_type", parse_value_type(self.value_type))
        for flag in ("repeated", "indexed"):
            value = getattr(self, flag)
            if not isinstance(value, (bool, np.bool_)):
                raise WrongData(f"{flag} must be a boolean, not {value!r}")
            object.__setattr__(self, flag, bool(value))

    def to_public(self, *, with_indexed: bool = False) -> dict[str, Any]:
        """The wire description (``indexed`` is added for user properties)."""
        public: dict[str, Any] = {
            "property_name": self.name,
            "value_type": self.value_type.name,
            "repeated": self.repeated,
        }
        if with_indexed:
            public["indexed"] = self.indexed
        return public


def encode_for_storage(value: Any) -> Any:
    """A JSON-safe form of a checked value (bytes become base64); lists are mapped."""
    if isinstance(value, (list, tuple)):
        return [encode_for_storage(v) for v in value]
    if isinstance(value, bytes):
        return b64_encode(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_from_storage(value: Any, value_type: ValueType) -> Any:
    """Inverse of ``encode_for_storage`` for a value of ``value_type``."""
    if value is None:
        return None
    if isinstance(value, list):
        return [decode_from_storage(v, value_type) for v in value]
    if value_type.kind == "bytes":
        return b64_decode(value, "stored value")
    if value_type.kind == "float":
        return float(value)
    return value
