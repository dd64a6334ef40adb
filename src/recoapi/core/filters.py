"""Item-property filters and reranking options of the recommendation endpoints.

Filters come as strings (``"year:gt:1990"``, ``"genres:in:Drama,Comedy"``, ``"tags:notempty"``)
or objects (``{"property_name", "op", "value"?}``), alone or in lists. Their semantics
(ENDPOINTS.md §6, and our choices where the docs are silent):

* filters combine with AND;
* on a repeated property a filter passes when **any** value passes, except ``neq`` and
  ``notin``, which need **all** values to pass and so keep items with no value;
* a missing scalar value fails every op except ``neq``/``notin`` (mirroring the empty list);
* ``notempty`` passes when there is a value, and for strings/bytes a non-empty one;
* floats refuse equality (``eq neq in notin``), booleans refuse ordering;
* filter values are converted to the property type but not range-checked: ``year:lt:70000``
  on an int16 property is legal and true for every item that has a year.

``filter_mask`` works on numpy arrays built by ``prepare_column``; callers that filter the
same catalog repeatedly should cache the ``PreparedColumn`` objects.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recoapi.core.idtypes import b64_decode
from recoapi.core.properties import PropertySpec, ValueType, parse_value_type
from recoapi.errors import WrongData

if TYPE_CHECKING:  # core stays free of engine imports at run time (duck-typed)
    from recoapi.core.columns import PropertyColumn

OPS = ("eq", "neq", "lt", "lte", "gt", "gte", "in", "notin", "notempty")
_NEGATIVE = ("neq", "notin")
_ORDER = ("lt", "lte", "gt", "gte")
_INT_TEXT = re.compile(r"^\s*[-+]?[0-9]+\s*$")
_BOOL_TEXT = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Filter:
    """A parsed, not yet typed filter. ``value`` is a tuple for ``in``/``notin``."""

    property_name: str
    op: str
    value: Any = None

    def describe(self) -> str:
        if self.op == "notempty":
            return f"{self.property_name}:{self.op}"
        shown = ",".join(map(str, self.value)) if isinstance(self.value, tuple) else self.value
        return f"{self.property_name}:{self.op}:{shown}"

    def to_public(self) -> dict[str, Any]:
        """Object form, e.g. for storing in a scenario."""
        public: dict[str, Any] = {"property_name": self.property_name, "op": self.op}
        if self.op != "notempty":
            public["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return public

    def bind(self, spec: PropertySpec) -> BoundFilter:
        """Type the value(s) with the property's type; WrongData if the op does not apply."""
        label = f"filter '{self.describe()}'"
        kind = spec.value_type.kind
        if kind == "float" and self.op in ("eq", "neq", "in", "notin"):
            raise WrongData(f"{label}: float properties do not support {self.op}; use lt/gt")
        if kind == "bool" and self.op in _ORDER:
            raise WrongData(f"{label}: bool properties do not support {self.op}")
        raw = () if self.op == "notempty" else self.value
        raw = raw if isinstance(raw, tuple) else (raw,)
        values = tuple(_convert(v, spec.value_type, label) for v in raw)
        return BoundFilter(spec.name, self.op, values, spec.value_type, spec.repeated)


@dataclass(frozen=True)
class BoundFilter:
    """A filter whose values have the property's Python type."""

    property_name: str
    op: str
    values: tuple[Any, ...]
    value_type: ValueType
    repeated: bool


def parse_filters(raw: Any) -> list[Filter]:
    """Parse ``None``, a string, an object, or a list of strings/objects."""
    return [_parse_one(item) for item in _as_list(raw, "filters")]


def _as_list(raw: Any, what: str) -> list[Any]:
    if raw is None or isinstance(raw, (str, dict)):
        return [] if raw is None else [raw]
    if not isinstance(raw, (list, tuple)):
        raise WrongData(f"{what} must be a string, an object or a list, not {raw!r}")
    return list(raw)


def _parse_one(item: Any) -> Filter:
    if isinstance(item, str):
        return _parse_string(item)
    if isinstance(item, dict):
        return _parse_object(item)
    raise WrongData(f"filter {item!r} must be a string or an object")


def _parse_string(text: str) -> Filter:
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise WrongData(f"filter '{text}' must look like 'property:op' or 'property:op:value'")
    op = _check_op(parts[1], text)
    value: Any = parts[2] if len(parts) == 3 else None
    if op in ("in", "notin") and value is not None:
        value = tuple(value.split(","))
    return _make_filter(parts[0], op, value or None if op == "notempty" else value, f"'{text}'")


def _parse_object(obj: dict[str, Any]) -> Filter:
    name = obj.get("property_name")
    if set(obj) - {"property_name", "op", "value"} or not isinstance(name, str) or "op" not in obj:
        raise WrongData(f"filter {obj!r} needs exactly 'property_name', 'op' and maybe 'value'")
    op, value = _check_op(obj["op"], obj), obj.get("value")
    if isinstance(value, dict):
        raise WrongData(f"filter {obj!r}: advanced (object) filter values are not supported")
    if op in ("in", "notin") and value is not None:
        value = _listed(value)
    elif isinstance(value, (list, tuple, np.ndarray)):
        raise WrongData(f"filter {obj!r}: {op} takes a single value")
    return _make_filter(name, op, value, repr(obj))


def _listed(value: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        return tuple(value.split(","))
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _make_filter(name: str, op: str, value: Any, where: str) -> Filter:
    if not name.strip():
        raise WrongData(f"filter {where} must look like 'property:op' or 'property:op:value'")
    if op == "notempty" and value is not None:
        raise WrongData(f"filter {where}: notempty takes no value")
    if op != "notempty" and value is None:
        raise WrongData(f"filter {where}: {op} needs a value")
    return Filter(name.strip().lower(), op, value)


def _check_op(op: Any, where: Any) -> str:
    low = op.strip().lower() if isinstance(op, str) else op
    if low not in OPS:
        shown = f"'{where}'" if isinstance(where, str) else repr(where)
        raise WrongData(f"filter {shown}: unknown op {op!r}; use one of {', '.join(OPS)}")
    return str(low)


def _convert(raw: Any, vtype: ValueType, label: str) -> Any:
    """One filter value as the property's Python type (not range-checked)."""
    if isinstance(raw, np.generic):
        raw = raw.item()
    converted = _convert_text(raw, vtype) if isinstance(raw, str) else _convert_typed(raw, vtype)
    if converted is None:
        raise WrongData(f"{label}: {raw!r} is not a valid {vtype.name} value")
    return converted


def _convert_text(text: str, vtype: ValueType) -> Any:
    if vtype.kind == "int":
        return int(text) if _INT_TEXT.match(text) else None
    if vtype.kind == "float":
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if vtype.kind == "bool":
        return _BOOL_TEXT.get(text.strip().lower())
    if vtype.kind == "bytes":
        try:
            return b64_decode(text, "filter value")
        except WrongData:
            return None
    return text


def _convert_typed(raw: Any, vtype: ValueType) -> Any:
    number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    if vtype.kind == "int" and number:
        return int(raw) if isinstance(raw, int) or float(raw).is_integer() else None
    if vtype.kind == "float" and number:
        return float(raw) if math.isfinite(raw) else None
    if vtype.kind == "bool" and isinstance(raw, bool):
        return raw
    if vtype.kind == "unicode" and number:
        return str(raw)
    if vtype.kind == "bytes" and isinstance(raw, bytes):
        return raw
    return None


def bind_filters(filters: Iterable[Filter], specs: Mapping[str, PropertySpec]) -> list[BoundFilter]:
    """Bind each filter to its property; WrongData for an unknown property."""
    bound = []
    for flt in filters:
        spec = specs.get(flt.property_name)
        if spec is None:
            raise WrongData(f"filter '{flt.describe()}': unknown property '{flt.property_name}'")
        bound.append(flt.bind(spec))
    return bound


# -- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedColumn:
    """A property column as numpy arrays.

    Scalar columns: ``data[i]`` is item ``i``'s value (a filler where ``present`` is False).
    Repeated columns: ``data`` holds all values flat and ``owner`` their item indices.
    """

    kind: str
    repeated: bool
    n_items: int
    present: np.ndarray
    data: np.ndarray
    owner: np.ndarray | None = None


def prepare_column(
    column: PropertyColumn, value_type: ValueType | None = None, n_items: int | None = None
) -> PreparedColumn:
    """Build the numpy form of a column (values padded with "missing" up to ``n_items``)."""
    vtype = value_type or parse_value_type(column.value_type)
    n = len(column.values) if n_items is None else n_items
    values = itertools.islice(itertools.chain(column.values, itertools.repeat(None)), n)
    if column.repeated:
        lists = [v or () for v in values]
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        data = _to_numpy(list(itertools.chain.from_iterable(lists)), vtype)
        owner = np.repeat(np.arange(n), lengths)
        return PreparedColumn(vtype.kind, True, n, lengths > 0, data, owner)
    objects = np.fromiter(values, dtype=object, count=n)
    present = objects != None  # noqa: E711 - elementwise comparison
    known = _to_numpy(objects[present].tolist(), vtype)
    data = np.full(n, b"", dtype=object) if vtype.kind == "bytes" else np.zeros(n, known.dtype)
    data[present] = known
    return PreparedColumn(vtype.kind, False, n, present, data)


def _to_numpy(values: list[Any], vtype: ValueType) -> np.ndarray:
    if vtype.kind == "int":
        return np.array(values, dtype=np.uint64 if vtype.name == "uint64" else np.int64)
    if vtype.kind == "float":
        return np.array(values, dtype=np.float64)
    if vtype.kind == "bool":
        return np.array(values, dtype=bool)
    if vtype.kind == "unicode":
        return np.array(values, dtype=vtype.dtype)
    return np.fromiter(values, dtype=object, count=len(values))


def filter_mask(
    bound_filters: Iterable[BoundFilter],
    columns: Mapping[str, PropertyColumn | PreparedColumn],
    n_items: int,
) -> np.ndarray:
    """Boolean mask over item indices of the items passing every filter."""
    mask = np.ones(n_items, dtype=bool)
    for flt in bound_filters:
        column = columns.get(flt.property_name)
        if column is None:
            passed = np.full(n_items, flt.op in _NEGATIVE)
        else:
            if not isinstance(column, PreparedColumn):
                column = prepare_column(column, flt.value_type, n_items)
            passed = _fit(_evaluate(flt, column), n_items, flt.op in _NEGATIVE)
        mask &= passed
    return mask


def _fit(passed: np.ndarray, n_items: int, missing: bool) -> np.ndarray:
    """Pad (items added since the column was prepared count as missing) or truncate."""
    if len(passed) >= n_items:
        return passed[:n_items]
    return np.concatenate([passed, np.full(n_items - len(passed), missing)])


def _evaluate(flt: BoundFilter, column: PreparedColumn) -> np.ndarray:
    hits = _compare(column.data, flt.op, flt.values, column.kind)
    negative = flt.op in _NEGATIVE
    if not column.repeated:
        scalar_hits: np.ndarray = hits | ~column.present if negative else hits & column.present
        return scalar_hits
    assert column.owner is not None
    flagged = np.zeros(column.n_items, dtype=bool)
    flagged[column.owner[~hits if negative else hits]] = True
    return ~flagged if negative else flagged


def _compare(data: np.ndarray, op: str, values: tuple[Any, ...], kind: str) -> np.ndarray:
    """Per-value outcome of one op (ignoring presence)."""
    if op == "notempty":
        if kind in ("unicode", "bytes"):
            return np.asarray(data != ("" if kind == "unicode" else b""), dtype=bool)
        return np.ones(len(data), dtype=bool)
    if op in ("in", "notin"):
        hits = _isin(data, values)
        return ~hits if op == "notin" else hits
    if data.dtype.kind in "iu":
        return _compare_int(data, op, int(values[0]))
    value = values[0]
    if op in ("eq", "neq"):
        hits = np.asarray(data == value, dtype=bool)
        return ~hits if op == "neq" else hits
    return np.asarray(_ORDER_FUNCS[op](data, value), dtype=bool)


_ORDER_FUNCS = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


def _isin(data: np.ndarray, values: tuple[Any, ...]) -> np.ndarray:
    if data.dtype.kind in "iu":
        info = np.iinfo(data.dtype)
        values = tuple(v for v in values if int(info.min) <= v <= int(info.max))
    return np.isin(data, np.array(values, dtype=str if data.dtype.kind == "U" else data.dtype))


def _compare_int(data: np.ndarray, op: str, value: int) -> np.ndarray:
    """Integer comparison that stays exact when ``value`` lies outside the column dtype."""
    info = np.iinfo(data.dtype)
    if value < int(info.min) or value > int(info.max):
        above = value > int(info.max)  # every stored value is below ``value``
        outcome = {"eq": False, "neq": True, "lt": above, "lte": above}.get(op, not above)
        return np.full(len(data), outcome)
    scalar = data.dtype.type(value)
    if op in ("eq", "neq"):
        return np.asarray((data != scalar) if op == "neq" else (data == scalar), dtype=bool)
    return np.asarray(_ORDER_FUNCS[op](data, scalar), dtype=bool)


# -- reranking --------------------------------------------------------------------------

RERANK_OPS = ("diversity",)
_INT64, _FLOAT64 = parse_value_type("int64"), parse_value_type("float64")
_OPTION_RULES = {  # name: (type, minimum)
    "activation_period": (_INT64, 1),
    "max_activation_count": (_INT64, 0),
    "default_malus": (_FLOAT64, -math.inf),
}


@dataclass(frozen=True)
class Rerank:
    """One reranking step, e.g. diversity over ``genres`` with weight 0.5."""

    property_name: str
    op: str = "diversity"
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)

    def to_public(self) -> dict[str, Any]:
        public = {"property_name": self.property_name, "op": self.op, "weight": self.weight}
        return {**public, "options": dict(self.options)} if self.options else public


def parse_reranking(raw: Any) -> list[Rerank]:
    """Parse ``None``, a string, an object, or a list of those."""
    return [_parse_rerank(item) for item in _as_list(raw, "reranking")]


def _parse_rerank(item: Any) -> Rerank:
    if isinstance(item, str):
        tokens = item.split(":")
        if len(tokens) < 2:
            raise WrongData(f"reranking '{item}' must look like 'property:diversity[:weight]'")
        pairs = [t for t in tokens[3:] if t != ""]
        if len(pairs) % 2:
            raise WrongData(f"reranking '{item}': options must come as key:value pairs")
        options = dict(zip(pairs[::2], pairs[1::2], strict=True))
        weight = tokens[2] if len(tokens) > 2 and tokens[2] != "" else None
        return _make_rerank(tokens[0], tokens[1], weight, options, f"'{item}'")
    if isinstance(item, dict):
        extra = set(item) - {"property_name", "op", "weight", "options"}
        if extra or "property_name" not in item or "op" not in item:
            raise WrongData(f"reranking {item!r} needs 'property_name', 'op' (+ weight, options)")
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise WrongData(f"reranking {item!r}: options must be an object")
        return _make_rerank(item["property_name"], item["op"], item.get("weight"), options, item)
    raise WrongData(f"reranking {item!r} must be a string or an object")


def _make_rerank(name: Any, op: Any, weight: Any, options: dict[str, Any], where: Any) -> Rerank:
    label = f"reranking {where if isinstance(where, str) else repr(where)}"
    if not isinstance(name, str) or not name.strip():
        raise WrongData(f"{label}: property_name must be a non-empty string")
    if not isinstance(op, str) or op.strip().lower() not in RERANK_OPS:
        raise WrongData(f"{label}: unknown op {op!r}; only 'diversity' is supported")
    value = 1.0 if weight is None else float(_convert(weight, _FLOAT64, f"{label}: weight"))
    if not value > 0:
        raise WrongData(f"{label}: weight must be > 0")
    checked = {key: _option(key, val, label) for key, val in options.items()}
    return Rerank(name.strip().lower(), op.strip().lower(), value, checked)


def _option(key: Any, value: Any, label: str) -> Any:
    if key not in _OPTION_RULES:
        raise WrongData(f"{label}: unknown option {key!r}; use {', '.join(_OPTION_RULES)}")
    vtype, minimum = _OPTION_RULES[key]
    number = _convert(value, vtype, f"{label}: option {key}")
    if number < minimum:
        raise WrongData(f"{label}: option {key} must be >= {minimum}")
    return number


def bind_reranking(reranks: Iterable[Rerank], specs: Mapping[str, PropertySpec]) -> list[Rerank]:
    """Check that each reranking names a known property."""
    out = list(reranks)
    for rerank in out:
        if rerank.property_name not in specs:
            raise WrongData(f"reranking: unknown property '{rerank.property_name}'")
    return out
