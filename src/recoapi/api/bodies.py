"""Turn request bodies (structured arrays or lists of dicts) into validated columns.

Both wire formats end up here: pkl bodies carry numpy structured arrays, JSON bodies lists
of dicts. Fields are selected by name and whole columns are validated at once, so a bad
value is reported with its field and row and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from recoapi.api.util import plain_json
from recoapi.core.idtypes import IdType
from recoapi.core.properties import PropertySpec, encode_for_storage
from recoapi.errors import DuplicatedError, WrongData

MIN_TIMESTAMP, MAX_TIMESTAMP = -1.5e11, 3.5e9
MAX_INTERACTION_TYPE = 64


# --- tables --------------------------------------------------------------------------------


@dataclass
class Table:
    """Columns of a body table, by field name; ``None`` marks a missing cell."""

    columns: dict[str, Any]
    n_rows: int

    def require(self, name: str, field: str) -> Any:
        if name not in self.columns:
            if self.n_rows == 0:  # an empty list names no fields: nothing to do
                return []
            raise WrongData(f"'{field}' rows need a '{name}' field", field=field)
        column = self.columns[name]
        if isinstance(column, list) and any(v is None for v in column):
            row = next(i for i, v in enumerate(column) if v is None)
            raise WrongData(f"'{field}' row {row} has no '{name}'", field=field)
        return column

    def optional(self, name: str) -> Any:
        return self.columns.get(name)


def as_table(value: Any, field: str) -> Table:
    """A structured array, a list of dicts or a dict of equal-length lists."""
    if isinstance(value, np.ndarray):
        if value.dtype.names is None or value.ndim != 1:
            raise WrongData(
                f"'{field}' must be a 1-D structured array or a list of objects", field=field
            )
        return Table({name: value[name] for name in value.dtype.names}, len(value))
    if isinstance(value, Mapping):
        lengths = {len(v) for v in value.values() if isinstance(v, (list, np.ndarray))}
        if len(lengths) != 1 or len(lengths) != 1 or len(value) == 0:
            raise WrongData(
                f"'{field}' as an object must map names to equal-length lists", field=field
            )
        return Table({str(k): v for k, v in value.items()}, lengths.pop())
    if not isinstance(value, (list, tuple)):
        raise WrongData(f"'{field}' must be a list of objects or a structured array", field=field)
    names: dict[str, None] = {}
    for row, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise WrongData(f"'{field}' row {row} must be an object", field=field)
        names.update(dict.fromkeys(item))
    return Table({name: [item.get(name) for item in value] for name in names}, len(value))


def reject_duplicates(keys: np.ndarray, entity: str) -> None:
    if keys.dtype.kind in "iu":
        uniques, counts = np.unique(keys, return_counts=True)
        if len(uniques) != len(keys):
            raise DuplicatedError(entity, uniques[counts > 1][0].item())
        return
    seen: set[Any] = set()
    for key in keys:
        if key in seen:
            raise DuplicatedError(entity, key)
        seen.add(key)


# --- entities --------------------------------------------------------------------------------


def entity_rows(
    body: Mapping[str, Any],
    entity: str,
    id_type: IdType,
    specs: Mapping[str, PropertySpec],
    fmt: str,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Keys and storage-ready property dicts of a bulk items/users body."""
    field = f"{entity}s"
    table = as_table(body.get(field) if body.get(field) is not None else [], field)
    keys = id_type.from_body_array(table.require(f"{entity}_id", field), f"{entity}_id", fmt)
    reject_duplicates(keys, entity)
    props: list[dict[str, Any]] = [{} for _ in range(table.n_rows)]
    for name, column in table.columns.items():
        if name == f"{entity}_id":
            continue
        spec = _known_spec(specs, name, field)
        _fill_column(props, spec, column, field, fmt)
    for group in _m2m_groups(body.get(f"{field}_m2m"), f"{field}_m2m"):
        spec = _known_spec(specs, group["name"], f"{field}_m2m")
        _fill_m2m(props, spec, group, entity, fmt, table.n_rows)
    return keys, props


def single_entity_props(
    value: Any, entity: str, specs: Mapping[str, PropertySpec], fmt: str
) -> dict[str, Any]:
    """The property dict of one item/user (``item``/``user`` body field)."""
    if not isinstance(value, Mapping):
        raise WrongData(f"field '{entity}' must be an object of property values", field=entity)
    props: list[dict[str, Any]] = [{}]
    for name, cell in value.items():
        if name == f"{entity}_id":
            continue
        _fill_column(props, _known_spec(specs, str(name), entity), [cell], entity, fmt)
    return props[0]


def _known_spec(specs: Mapping[str, PropertySpec], name: str, field: str) -> PropertySpec:
    spec = specs.get(str(name).lower())
    if spec is None:
        raise WrongData(
            f"'{field}' uses the unknown property '{name}'; declare it first"
            f" (known: {', '.join(sorted(specs)) or 'none'})",
            field=field,
        )
    return spec


def _fill_column(
    props: list[dict[str, Any]], spec: PropertySpec, column: Any, field: str, fmt: str
) -> None:
    where = f"{field}.{spec.name}"
    if spec.repeated:
        for row, cell in enumerate(column):
            if cell is None:
                continue
            values = cell.tolist() if isinstance(cell, np.ndarray) else cell
            if not isinstance(values, (list, tuple)):
                raise WrongData(
                    f"property '{spec.name}' at row {row} is repeated: give a list", field=where
                )
            checked = spec.value_type.check_array(list(values), field=f"{where}[{row}]", fmt=fmt)
            props[row][spec.name] = [encode_for_storage(v) for v in checked]
        return
    # missing cells (None) pass the check as None, so error rows are rows of the request
    for row, value in enumerate(spec.value_type.check_array(column, field=where, fmt=fmt)):
        if value is not None:
            props[row][spec.name] = encode_for_storage(value)


def _m2m_groups(value: Any, field: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):  # {name: array}
        value = [{"name": k, "array": v} for k, v in value.items()]
    if not isinstance(value, (list, tuple)):
        raise WrongData(f"'{field}' must be a list of {{name, array}} objects", field=field)
    for i, group in enumerate(value):
        if not isinstance(group, Mapping) or "name" not in group or "array" not in group:
            raise WrongData(f"'{field}' entry {i} must have 'name' and 'array'", field=field)
    return list(value)


def _fill_m2m(
    props: list[dict[str, Any]],
    spec: PropertySpec,
    group: Mapping[str, Any],
    entity: str,
    fmt: str,
    n: int,
) -> None:
    where = f"{entity}s_m2m.{spec.name}"
    if not spec.repeated:
        raise WrongData(
            f"property '{spec.name}' is not repeated; send it in '{entity}s'", field=where
        )
    table = as_table(group["array"], where)
    if table.n_rows == 0:
        return
    index = np.asarray(table.require(f"{entity}_index", where))
    if index.dtype.kind not in "iu" or (len(index) and (index.min() < 0 or index.max() >= n)):
        raise WrongData(
            f"'{where}' {entity}_index values must be row numbers of '{entity}s' (0..{n - 1})",
            field=where,
        )
    values = spec.value_type.check_array(table.require("value_id", where), field=where, fmt=fmt)
    for row, value in zip(index.tolist(), values, strict=True):
        props[row].setdefault(spec.name, []).append(encode_for_storage(value))


# --- ratings and interactions ----------------------------------------------------------------


def ratings_column(column: Any, field: str) -> np.ndarray:
    ratings = _float_column(column, field)
    bad = ~((ratings >= 1.0) & (ratings <= 10.0))
    if bad.any():
        row = int(np.argmax(bad))
        raise WrongData(
            f"'{field}' at row {row} is {ratings[row]!r}: ratings must lie in [1, 10]", field=field
        )
    return ratings.astype(np.float32)


def timestamps_column(column: Any, n: int, field: str) -> np.ndarray:
    if column is None:
        return np.full(n, time.time())
    if isinstance(column, list):
        now = time.time()
        column = [now if v is None else v for v in column]
    ts = _float_column(column, field)
    bad = ~((ts >= MIN_TIMESTAMP) & (ts <= MAX_TIMESTAMP))
    if bad.any():
        row = int(np.argmax(bad))
        raise WrongData(
            f"'{field}' at row {row} is not a Unix time in seconds: {ts[row]!r}", field=field
        )
    return ts


def scalar_timestamp(value: Any, field: str = "timestamp") -> float:
    return float(timestamps_column(None if value is None else [value], 1, field)[0])


def scalar_rating(value: Any, field: str = "rating") -> float:
    return float(ratings_column([value], field)[0])


def _float_column(column: Any, field: str) -> np.ndarray:
    try:
        values = np.asarray(column)
        if values.dtype.kind not in "iuf" or values.ndim != 1:
            raise TypeError
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise WrongData(f"'{field}' must hold numbers", field=field) from None
    return values


def interaction_types(column: Any, field: str) -> np.ndarray:
    values = np.empty(len(column), object)
    for row, value in enumerate(column.tolist() if isinstance(column, np.ndarray) else column):
        if not isinstance(value, str) or not value or len(value) > MAX_INTERACTION_TYPE:
            raise WrongData(
                f"'{field}' at row {row} must be a non-empty string of at most "
                f"{MAX_INTERACTION_TYPE} characters",
                field=field,
            )
        values[row] = value
    return values


def interaction_properties(column: Any, n: int, field: str) -> list[Any]:
    if column is None:
        return [None] * n
    cells = column.tolist() if isinstance(column, np.ndarray) else list(column)
    for row, cell in enumerate(cells):
        if cell is not None and not isinstance(cell, dict):
            raise WrongData(f"'{field}' at row {row} must be an object", field=field)
        cells[row] = plain_json(cell, f"{field} at row {row}")
    return cells
