"""A property over a whole catalog: what models, filters and rerankers read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PropertyColumn:
    """One item property over the whole catalog, aligned with item indices.

    ``values[i]`` is the value of item ``i``: a scalar (or None when missing) for a plain
    property, a list (maybe empty) for a repeated one. ``value_type`` is the declared type
    name (``int16``, ``unicode18``, ``float32``, ``bool``, ...).
    """

    name: str
    value_type: str
    repeated: bool
    values: list[Any]
