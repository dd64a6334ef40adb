"""numpy structured arrays <-> wire values (ENDPOINTS.md §2-3).

Requests: in JSON a structured array becomes a list of row dicts, numpy scalars become
Python ones and ``bytes`` become unpadded url-safe base64 (how ``bytes<N>`` ids travel).
In pkl everything is sent as built by the caller.

Responses: the server sends rows as lists of dicts in both formats; they are turned into
structured arrays whose id fields have the database's id dtype (``uint32``, ``U36`` for
uuid, ``S<N>`` for bytes ...), so the caller gets the same arrays whatever the format.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

ENTITIES = ("item", "user", "session")
_INTS = {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
_TEXT_PREFIXES = ("hex", "urlsafe")


def b64_encode(data: bytes) -> str:
    """Unpadded url-safe base64: how ``bytes`` ids travel in paths and JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def id_dtype(id_type: str) -> np.dtype:
    """numpy dtype for ids of a database id type (``uint32``, ``uuid``, ``hex16`` ...)."""
    name = id_type.lower()
    if name in _INTS:
        return np.dtype(name)
    if name == "uuid":
        return np.dtype("U36")
    if name.startswith("bytes"):
        return np.dtype(f"S{int(name[5:])}")
    for prefix in _TEXT_PREFIXES:
        if name.startswith(prefix):
            return np.dtype(f"U{int(name[len(prefix) :])}")
    raise ValueError(f"unknown id type {id_type!r}")


def property_dtype(value_type: str) -> np.dtype:
    """numpy dtype for a property value type (``int16``, ``unicode18``, ``float`` ...)."""
    name = value_type.lower()
    if name.startswith("unicode"):
        return np.dtype(f"U{int(name[7:])}")
    if name.startswith("bytes"):
        return np.dtype(f"S{int(name[5:])}")
    if name == "float":
        return np.dtype(np.float32)
    try:
        return np.dtype(name)
    except TypeError:
        return np.dtype(object)


# --- ids in paths and bodies -----------------------------------------------------------------


def id_to_path(value: Any, id_type: str) -> str:
    """One id as a URL path segment: its JSON form as text."""
    return str(id_to_json(value, id_type))


def id_to_json(value: Any, id_type: str) -> Any:
    """One id as a JSON value."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bytes, bytearray)):
        return (
            b64_encode(bytes(value))
            if id_type.startswith("bytes")
            else bytes(value).decode("ascii")
        )
    return value


def to_json(obj: Any, id_types: Mapping[str, str] | None = None) -> Any:
    """A JSON-ready copy of a request payload; ``<entity>_id`` values follow ``id_types``."""
    if isinstance(obj, np.ndarray):
        return to_json(array_to_rows(obj), id_types)
    if isinstance(obj, dict):
        return {str(k): _json_field(str(k), v, id_types) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v, id_types) for v in obj]
    if isinstance(obj, np.generic):
        return to_json(obj.item(), id_types)
    if isinstance(obj, (bytes, bytearray)):
        return b64_encode(bytes(obj))
    return obj


def _json_field(key: str, value: Any, id_types: Mapping[str, str] | None) -> Any:
    entity = key[:-3] if key.endswith("_id") else None
    nested = isinstance(value, (dict, list, tuple, np.ndarray))
    if id_types and entity is not None and entity in id_types and not nested:
        return id_to_json(value, id_types[entity])
    return to_json(value, id_types)


def array_to_rows(arr: np.ndarray) -> list[Any]:
    """A structured array as a list of dicts (a plain array as a list of Python values)."""
    if arr.dtype.names is None:
        return list(arr.tolist())
    names = arr.dtype.names
    return [dict(zip(names, row, strict=True)) for row in arr.tolist()]


def ids_to_body(ids: Any, id_type: str, fmt: str) -> Any:
    """A list or array of ids for a request body (``items_id``, ``users_id`` ...)."""
    if fmt == "pkl":
        return ids
    values = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
    return [id_to_json(v, id_type) for v in values]


# --- responses -------------------------------------------------------------------------------


def ids_from_wire(values: Any, id_type: str) -> np.ndarray:
    """A 1-D array of ids with the database's id dtype."""
    dtype = id_dtype(id_type)
    if isinstance(values, np.ndarray):
        return values.astype(dtype, copy=False)
    values = list(values or [])
    if dtype.kind == "S":
        values = [b64_decode(v) if isinstance(v, str) else v for v in values]
    return np.array(values, dtype=dtype)


def rows_to_array(
    rows: Any, fields: Sequence[tuple[str, Any]], id_types: Mapping[str, str]
) -> np.ndarray:
    """Rows (list of dicts, or an array) as a structured array.

    ``fields`` lists ``(name, dtype)``; a dtype of ``None`` means: ``<entity>_id`` fields take
    the id dtype, anything else is inferred. Fields absent from every row are left out, and a
    field missing from some rows becomes an object field holding ``None`` there.
    """
    if isinstance(rows, np.ndarray) and rows.dtype.names is not None:
        return rows
    rows = list(rows or [])
    columns: list[tuple[str, np.ndarray]] = []
    for name, dtype in fields:
        if rows and not any(name in row for row in rows):
            continue
        columns.append((name, _column([row.get(name) for row in rows], name, dtype, id_types)))
    out = np.empty(len(rows), dtype=[(name, col.dtype) for name, col in columns])
    for name, col in columns:
        out[name] = col
    return out


def _column(values: list[Any], name: str, dtype: Any, id_types: Mapping[str, str]) -> np.ndarray:
    entity = name[:-3] if name.endswith("_id") else None
    if any(v is None for v in values) and values:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if dtype is None and entity is not None and entity in id_types:
        return ids_from_wire(values, id_types[entity])
    if dtype is not None and np.dtype(dtype).kind == "S":
        values = [b64_decode(v) if isinstance(v, str) else v for v in values]
    if dtype is None or np.dtype(dtype).kind == "O":
        return _infer(values)
    return np.array(values, dtype=dtype)


def _infer(values: list[Any]) -> np.ndarray:
    if values and all(isinstance(v, (int, float, str, bool)) for v in values):
        return np.array(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def m2m_from_wire(m2m: Any, entity: str, dtypes: Mapping[str, np.dtype]) -> list[dict[str, Any]]:
    """``items_m2m`` / ``users_m2m`` as ``[{"name", "array"}]`` with structured arrays."""
    if isinstance(m2m, dict):
        m2m = [{"name": name, "array": array} for name, array in m2m.items()]
    out = []
    for entry in m2m or []:
        value_dtype = dtypes.get(str(entry["name"]).lower())
        fields = [(f"{entity}_index", np.uint32), ("value_id", value_dtype)]
        out.append({"name": entry["name"], "array": rows_to_array(entry["array"], fields, {})})
    return out


# --- bulk chunks -----------------------------------------------------------------------------


def m2m_as_list(m2m: Any) -> list[dict[str, Any]]:
    """Accept ``{name: array}`` as well as ``[{"name", "array"}]``."""
    if not m2m:
        return []
    if isinstance(m2m, Mapping):
        return [{"name": name, "array": array} for name, array in m2m.items()]
    return list(m2m)


def chunk_rows(
    rows: Any, m2m: Any, chunk_size: int, entity: str
) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """Split rows and their m2m arrays into chunks whose ``<entity>_index`` is rebased.

    Each m2m array is sorted by index once, so a chunk's rows are found by binary search.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    index = f"{entity}_index"
    prepared = [_sorted_m2m(entry, index) for entry in m2m_as_list(m2m)]
    for start in range(0, len(rows), chunk_size):
        stop = min(start + chunk_size, len(rows))
        yield (
            rows[start:stop],
            [_slice_m2m(name, arr, keys, start, stop, index) for name, arr, keys in prepared],
        )


def _sorted_m2m(entry: Mapping[str, Any], index: str) -> tuple[str, Any, np.ndarray]:
    array = entry["array"]
    if isinstance(array, np.ndarray):
        keys = np.asarray(array[index], dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        return entry["name"], array[order], keys[order]
    rows = sorted(array, key=lambda row: int(row[index]))
    return entry["name"], rows, np.array([int(row[index]) for row in rows], dtype=np.int64)


def _slice_m2m(
    name: str, array: Any, keys: np.ndarray, start: int, stop: int, index: str
) -> dict[str, Any]:
    lo, hi = np.searchsorted(keys, [start, stop])
    if not isinstance(array, np.ndarray):
        rows = [{**row, index: int(row[index]) - start} for row in array[lo:hi]]
        return {"name": name, "array": rows}
    part = array[lo:hi].copy()
    part[index] -= start
    return {"name": name, "array": part}


# --- filters and reranking in query strings --------------------------------------------------


def filters_to_query(filters: Sequence[Any]) -> list[str]:
    """Item-property filters as ``prop:op[:value]`` strings for GET endpoints.

    Dicts ``{'property_name', 'op', 'value'?}`` are converted; a list value is joined with
    commas (for ``in``/``notin``). Advanced (dict) values only work in scenarios.
    """
    out = []
    for rule in filters:
        if isinstance(rule, str):
            out.append(rule)
            continue
        if not isinstance(rule, Mapping):
            raise TypeError(f"a filter must be a string or a dict, not {type(rule).__name__}")
        text = f"{rule['property_name']}:{rule['op']}"
        if "value" in rule:
            value = rule["value"]
            if isinstance(value, Mapping):
                raise TypeError("advanced (dict) filter values are only accepted in scenarios")
            if isinstance(value, (list, tuple, np.ndarray)):
                value = ",".join(str(v) for v in value)
            text += f":{value}"
        out.append(text)
    return out


def reranking_to_query(reranking: Sequence[Any]) -> list[str]:
    """Rerankings as ``prop:op:[weight][:key:value...]`` strings for GET endpoints."""
    out = []
    for rule in reranking:
        if isinstance(rule, str):
            out.append(rule)
            continue
        if not isinstance(rule, Mapping):
            raise TypeError(f"a reranking must be a string or a dict, not {type(rule).__name__}")
        weight = rule.get("weight")
        text = f"{rule['property_name']}:{rule['op']}:{'' if weight is None else weight}"
        options = rule.get("options") or {}
        if options:
            text += ":" + ":".join(f"{k}:{v}" for k, v in options.items())
        out.append(text)
    return out
