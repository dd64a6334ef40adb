"""Property declarations of a database, read from the store as typed specs."""

from __future__ import annotations

from recoapi.core.properties import PropertySpec, parse_value_type
from recoapi.store.base import Store


def load_specs(store: Store, dbn: int, entity: str) -> dict[str, PropertySpec]:
    return {
        name: PropertySpec(name, parse_value_type(value_type), repeated, indexed)
        for name, value_type, repeated, indexed in store.list_properties(dbn, entity)
    }
