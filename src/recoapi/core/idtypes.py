"""External id types (``item_id_type``, ``user_id_type``, ``session_id_type``).

A database fixes one id type per entity when it is created. Ids reach the server in URL
paths, in JSON bodies and in pickled numpy arrays, and all of them are turned into one
canonical Python *key* here, so that the store and the vocabularies never see two
spellings of the same id:

=========  ======================================  =========================
kind       canonical key                           pkl wire dtype
=========  ======================================  =========================
int        ``int`` (0 rejected, range-checked)     the type itself (``<u4``)
uuid       ``str``, lowercase 8-4-4-4-12           ``<U36``
hex        ``str``, uppercase, 1..N chars          ``<U<N>``
urlsafe    ``str`` of ``[0-9a-zA-Z._-]``, 1..N     ``<U<N>``
bytes      ``bytes``, 1..N                         ``S<N>``
=========  ======================================  =========================

Bytes ids travel as unpadded url-safe base64 in paths and JSON. numpy ``S<N>`` arrays
cannot hold trailing NUL bytes, so such bytes ids lose them in pkl (a numpy limitation).
Row numbers in error messages are 0-based positions in the array or list sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recoapi.errors import WrongData

IdKey = int | str | bytes

_INT_TYPES = {f"{p}int{b}": (p == "", b) for p in ("", "u") for b in (8, 16, 32, 64)}
_SIZED = re.compile(r"^(hex|urlsafe|bytes)([0-9]{1,2})$")
_INT_TEXT = re.compile(r"^-?[0-9]{1,20}$")
_B64_TEXT = re.compile(r"^[A-Za-z0-9_-]*$")
_UUID_DASHES = (8, 13, 18, 23)
_HEX = "0123456789abcdefABCDEF"
_URLSAFE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-"


def _ascii_table(chars: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table


_CHARS = {"uuid": _HEX + "-", "hex": _HEX, "urlsafe": _URLSAFE}
_TABLES = {kind: _ascii_table(chars) for kind, chars in _CHARS.items()}
_ALLOWED = {kind: chars.encode("ascii") + b"\0" for kind, chars in _CHARS.items()}


def b64_encode(data: bytes) -> str:
    """Unpadded url-safe base64, as the reference client writes bytes ids."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_decode(text: str, label: str) -> bytes:
    """Inverse of ``b64_encode``; tolerates correct ``=`` padding, rejects other junk."""
    body = text.rstrip("=")
    if not _B64_TEXT.match(body) or len(body) % 4 == 1 or len(text) - len(body) > 2:
        raise WrongData(f"{label}: {text!r} is not unpadded url-safe base64")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise WrongData(f"{label}: {text!r} is not unpadded url-safe base64") from exc


def parse_id_type(name: str) -> IdType:
    """The ``IdType`` for a type name such as ``uint32``, ``uuid`` or ``bytes16``."""
    if not isinstance(name, str):
        raise WrongData(f"id type must be a string, not {type(name).__name__}")
    low = name.strip().lower()
    if low in _INT_TYPES:
        return IdType(low, "int", _INT_TYPES[low][1])
    if low == "uuid":
        return IdType(low, "uuid", 36)
    match = _SIZED.match(low)
    if match and 1 <= int(match.group(2)) <= 64:
        return IdType(f"{match.group(1)}{int(match.group(2))}", match.group(1), int(match.group(2)))
    raise WrongData(
        f"unknown id type {name!r}: use int8..int64, uint8..uint64, uuid, "
        "hex<N>, urlsafe<N> or bytes<N> with N <= 64"
    )


@dataclass(frozen=True)
class IdType:
    """One id type. ``size`` is the bit width for ints and the maximum length otherwise."""

    name: str
    kind: str
    size: int

    @property
    def bounds(self) -> tuple[int, int]:
        """Inclusive range of an integer type (0 is excluded separately)."""
        if self.name.startswith("u"):
            return 0, 2**self.size - 1
        return -(2 ** (self.size - 1)), 2 ** (self.size - 1) - 1

    @property
    def wire_dtype(self) -> np.dtype:
        """dtype of id arrays in pkl responses."""
        if self.kind == "int":
            return np.dtype(self.name)
        return np.dtype(f"S{self.size}" if self.kind == "bytes" else f"U{self.size}")

    @property
    def array_dtype(self) -> np.dtype:
        """dtype of ``from_body_array`` results: int64 (uint64 for uint64) or object."""
        if self.kind != "int":
            return np.dtype(object)
        return np.dtype(np.uint64 if self.name == "uint64" else np.int64)

    # -- single ids -------------------------------------------------------------

    def from_path(self, text: str) -> IdKey:
        """Parse an id written in a URL path (bytes ids are unpadded url-safe base64)."""
        label = "id in the path"
        if self.kind == "int":
            if not _INT_TEXT.match(text):
                raise WrongData(f"{label}: {text!r} is not a valid {self.name} id (decimal digits)")
            return self._check_int(int(text), label)
        if self.kind == "bytes":
            return self._check_bytes(b64_decode(text, label), label)
        return self._check_text(text, label)

    def from_body(self, value: Any, field: str, fmt: str) -> IdKey:
        """Parse one id from a decoded body; ``field`` names it in error messages."""
        return self._scalar(value, field, fmt)

    def _scalar(self, value: Any, label: str, fmt: str) -> IdKey:
        if self.kind == "int":
            return self._int_scalar(value, label)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if self.kind == "bytes":
            if fmt == "json" and isinstance(value, str):
                return self._check_bytes(b64_decode(value, label), label)
            if fmt != "json" and isinstance(value, bytes):
                return self._check_bytes(bytes(value), label)
            want = "a base64 string" if fmt == "json" else "bytes"
            raise WrongData(f"{label} must be {want} for {self.name} ids, not {value!r}")
        if isinstance(value, bytes):
            value = self._ascii(value, label)
        if not isinstance(value, str):
            raise WrongData(f"{label} must be a string for {self.name} ids, not {value!r}")
        return self._check_text(str(value), label)

    def _int_scalar(self, value: Any, label: str) -> int:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)):
            raise WrongData(f"{label} must be an integer, not a boolean")
        if isinstance(value, (int, np.integer)):
            return self._check_int(int(value), label)
        if isinstance(value, str) and _INT_TEXT.match(value):
            return self._check_int(int(value), label)
        raise WrongData(f"{label} must be an integer {self.name} id, not {value!r}")

    def _check_int(self, value: int, label: str) -> int:
        lo, hi = self.bounds
        if value == 0:
            raise WrongData(f"{label} is 0; ids must be non-zero")
        if not lo <= value <= hi:
            raise WrongData(f"{label} is out of range for {self.name} (got {value})")
        return value

    def _check_bytes(self, value: bytes, label: str) -> bytes:
        if not 1 <= len(value) <= self.size:
            raise WrongData(f"{label} must hold 1 to {self.size} bytes (got {len(value)})")
        return value

    def _check_text(self, text: str, label: str) -> str:
        keys = self._canonical_texts(np.array([text]), label, single=True)
        return str(keys[0])

    @staticmethod
    def _ascii(value: bytes, label: str) -> str:
        try:
            return value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise WrongData(f"{label}: {value!r} is not ASCII") from exc

    # -- columns ----------------------------------------------------------------

    def from_body_array(self, values: Any, field: str, fmt: str) -> np.ndarray:
        """Parse a column of ids (numpy array of any int/str/bytes dtype, or a list).

        Returns ``array_dtype`` values. Checks are vectorized; lists of mixed Python
        types fall back to one check per row.
        """
        if isinstance(values, np.ndarray):
            if values.ndim != 1:
                raise WrongData(f"{field} must be a 1-D array, not shape {values.shape}")
            return self._from_array(values, field, fmt)
        if not isinstance(values, (list, tuple)):
            raise WrongData(f"{field} must be a list or an array of ids")
        return self._from_list(values, field, fmt)

    def _from_list(self, values: Sequence[Any], field: str, fmt: str) -> np.ndarray:
        types = set(map(type, values))
        if not values:
            return np.zeros(0, dtype=self.array_dtype)
        if self.kind == "int" and types == {int}:
            arr = np.array(values)
            if arr.dtype.kind in "iu":
                return self._from_array(arr, field, fmt)
        elif self.kind != "bytes" and types == {str}:
            return self._from_array(np.array(values, dtype=str), field, fmt)
        elif self.kind == "bytes" and fmt != "json" and types == {bytes}:
            return self._from_array(np.array(values, dtype=bytes), field, fmt)
        return self._row_by_row(values, field, fmt)

    def _row_by_row(self, values: Sequence[Any] | np.ndarray, field: str, fmt: str) -> np.ndarray:
        keys = [self._scalar(v, f"{field} at row {i}", fmt) for i, v in enumerate(values)]
        if self.kind == "int":
            return np.array(keys, dtype=self.array_dtype)
        out = np.empty(len(keys), dtype=object)
        out[:] = keys
        return out

    def _from_array(self, arr: np.ndarray, field: str, fmt: str) -> np.ndarray:
        kind = arr.dtype.kind
        if self.kind == "int" and kind in "iu":
            return self._int_array(arr, field)
        if self.kind in ("uuid", "hex", "urlsafe") and kind in "US":
            return self._text_array(arr, field)
        if self.kind == "bytes" and kind == "S" and fmt != "json":
            return self._bytes_array(arr, field)
        if kind == "O":
            return self._row_by_row(arr, field, fmt)
        raise WrongData(f"{field} has dtype {arr.dtype}, which cannot hold {self.name} ids")

    def _int_array(self, arr: np.ndarray, field: str) -> np.ndarray:
        wide = arr.astype(np.uint64 if arr.dtype.kind == "u" else np.int64)
        bad = (wide == 0) | _out_of_bounds(wide, *self.bounds)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            self._check_int(int(wide[row]), f"{field} at row {row}")
        return wide.astype(self.array_dtype)

    def _text_array(self, arr: np.ndarray, field: str) -> np.ndarray:
        if arr.dtype.kind == "S":
            try:
                arr = arr.astype(f"U{max(arr.dtype.itemsize, 1)}")
            except UnicodeDecodeError as exc:
                raise WrongData(f"{field} holds non-ASCII bytes") from exc
        return self._canonical_texts(arr, field)

    def _canonical_texts(self, arr: np.ndarray, field: str, single: bool = False) -> np.ndarray:
        width = max(arr.dtype.itemsize // 4, 1)
        arr = np.ascontiguousarray(arr, dtype=f"U{width}")
        wide = arr.view(np.uint32).reshape(len(arr), width)
        codes = wide.astype(np.uint8)  # non-ASCII rows are rejected before this matters
        if not self._all_valid(arr, wide, codes):
            bad = np.flatnonzero(~((wide < 128).all(axis=1) & self._valid_rows(codes)))
            row = int(bad[0]) if len(bad) else 0
            where = field if single else f"{field} at row {row}"
            raise WrongData(f"{where}: {str(arr[row])!r} is not a valid {self.name} id")
        if self.kind in ("uuid", "hex"):
            folded = _fold_case(codes, upper=self.kind == "hex").astype(np.uint32)
            arr = folded.reshape(-1).view(f"U{width}")
        return arr.astype(object)

    def _all_valid(self, arr: np.ndarray, wide: np.ndarray, codes: np.ndarray) -> bool:
        """Whole-column checks (fast); ``_valid_rows`` finds the culprit when this fails."""
        if len(arr) == 0:
            return True
        if wide.max() >= 128 or codes.tobytes().translate(None, _ALLOWED[self.kind]):
            return False
        lengths = np.char.str_len(arr)
        if np.count_nonzero(codes) != lengths.sum():  # a NUL inside some id
            return False
        if lengths.min() < 1 or lengths.max() > self.size:
            return False
        if self.kind == "uuid":
            dashes = codes[:, list(_UUID_DASHES)] == ord("-") if codes.shape[1] >= 36 else False
            return bool(np.all(dashes)) and np.count_nonzero(codes == ord("-")) == 4 * len(arr)
        return True

    def _valid_rows(self, codes: np.ndarray) -> np.ndarray:
        """Per-row version of ``_all_valid`` (ASCII-ness is checked by the caller)."""
        nonzero = codes != 0
        allowed = np.take(_TABLES[self.kind], codes) | ~nonzero
        lengths = nonzero.sum(axis=1)
        ok: np.ndarray = allowed.all(axis=1) & (lengths >= 1) & (lengths <= self.size)
        ok &= (nonzero[:, :-1] >= nonzero[:, 1:]).all(axis=1)
        if self.kind == "uuid":
            ok &= lengths == 36
            if codes.shape[1] >= 36:
                dash = np.zeros(36, dtype=bool)
                dash[list(_UUID_DASHES)] = True
                ok &= ((codes[:, :36] == ord("-")) == dash).all(axis=1)
        return ok

    def _bytes_array(self, arr: np.ndarray, field: str) -> np.ndarray:
        width = arr.dtype.itemsize
        codes = np.ascontiguousarray(arr).view(np.uint8).reshape(len(arr), width)
        nonzero = codes != 0
        lengths = np.where(nonzero.any(axis=1), width - nonzero[:, ::-1].argmax(axis=1), 0)
        bad = (lengths < 1) | (lengths > self.size)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            self._check_bytes(bytes(arr[row]), f"{field} at row {row}")
        return arr.astype(object)

    # -- output -----------------------------------------------------------------

    def to_wire(self, keys: Sequence[IdKey] | np.ndarray, fmt: str) -> Any:
        """Ids for a response: a ``wire_dtype`` array for pkl, a list for JSON."""
        if fmt != "json":
            if self.kind == "int" or len(keys) == 0:
                return np.array(keys, dtype=self.wire_dtype)
            return np.array(list(keys), dtype=self.wire_dtype)
        if self.kind == "int":
            return [int(k) for k in np.asarray(keys).tolist()]
        if self.kind == "bytes":
            return [b64_encode(bytes(k)) for k in keys]  # type: ignore[arg-type]
        return [str(k) for k in keys]

    def key_to_wire(self, key: IdKey, fmt: str) -> Any:
        """One id for a response, as a plain Python value."""
        if self.kind == "int":
            return int(key)
        if self.kind == "bytes":
            return b64_encode(bytes(key)) if fmt == "json" else bytes(key)  # type: ignore[arg-type]
        return str(key)

    # -- storage ----------------------------------------------------------------

    def to_db(self, key: IdKey) -> IdKey:
        """SQLite-storable key: uint64 above 2**63-1 wraps to negative (two's complement).

        The wrap keeps equality and uniqueness, not ordering.
        """
        if isinstance(key, (int, np.integer)) and int(key) >= 2**63:
            return int(key) - 2**64
        return key

    def from_db(self, value: Any) -> IdKey:
        """Inverse of ``to_db``."""
        if self.kind == "int":
            number = int(value)
            return number + 2**64 if number < 0 and self.name == "uint64" else number
        if self.kind == "bytes":
            return bytes(value)
        return str(value)

    def keys_to_db(self, keys: np.ndarray) -> np.ndarray:
        """Vectorized ``to_db`` for ``from_body_array`` results (int64 view for uint64)."""
        if keys.dtype == np.uint64:
            return keys.view(np.int64)
        return keys

    def keys_from_db(self, values: np.ndarray) -> np.ndarray:
        """Vectorized ``from_db`` for an int64 column read back from the store."""
        if self.kind == "int":
            return np.asarray(values, dtype=np.int64).view(self.array_dtype)
        return np.asarray(values, dtype=object)


def _out_of_bounds(wide: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Range mask computed in the array's own 64-bit dtype, so no float rounding creeps in."""
    if wide.dtype == np.uint64:
        return wide > np.uint64(hi) if hi < 2**64 - 1 else np.zeros(len(wide), dtype=bool)
    too_low = wide < np.int64(max(lo, -(2**63)))
    if hi >= 2**63 - 1:
        return too_low
    return too_low | (wide > np.int64(hi))


def _fold_case(codes: np.ndarray, *, upper: bool) -> np.ndarray:
    """ASCII case folding on a code-point matrix (ids are validated ASCII by now)."""
    first, last = (ord("a"), ord("z")) if upper else (ord("A"), ord("Z"))
    flip = ((codes >= first) & (codes <= last)).astype(np.uint8) << np.uint8(5)
    folded: np.ndarray = codes ^ flip
    return folded
