"""Property declarations of a database, read from the store as typed specs."""

from __future__ import annotations

from typing import Any

from recoapi.core.columns import PropertyColumn
from recoapi.core.properties import PropertySpec, decode_from_storage, parse_value_type
from recoapi.store.base import Store


def load_specs(store: Store, dbn: int, entity: str) -> dict[str, PropertySpec]:
    return {
        name: PropertySpec(name, parse_value_type(value_type), repeated, indexed)
        for name, value_type, repeated, indexed in store.list_properties(dbn, entity)
    }


def decode_cell(cell: Any, spec: PropertySpec) -> Any:
    """A stored property value back to its Python value (a list for repeated ones)."""
    if spec.repeated:
        return [decode_from_storage(v, spec.value_type) for v in cell or []]
    return None if cell is None else decode_from_storage(cell, spec.value_type)


def property_columns(
    specs: dict[str, PropertySpec], rows: dict[int, dict[str, Any]], n_items: int
) -> tuple[PropertyColumn, ...]:
    """Columns over items ``0..n_items-1`` from stored property rows keyed by item index."""
    columns = []
    for name, spec in specs.items():
        values: list[Any] = [[] if spec.repeated else None] * n_items
        for index, row in rows.items():
            if name in row and 0 <= index < n_items:
                values[index] = decode_cell(row[name], spec)
        columns.append(PropertyColumn(name, spec.value_type.name, spec.repeated, values))
    return tuple(columns)
