"""What a handler receives: the decoded request, its caller, and typed accessors for inputs.

Accessors raise ``WrongData`` naming the field, so handlers stay free of validation noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recoapi.api.util import plain_json
from recoapi.errors import ForbiddenError, WrongData

if TYPE_CHECKING:
    from recoapi.api.auth import Principal
    from recoapi.api.state import AppState
    from recoapi.core.idtypes import IdType
    from recoapi.store.base import DatabaseRecord

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    payload: dict[str, Any]
    fmt: str  # format of the request body: "json" or "pkl"
    state: AppState
    principal: Principal | None = None
    database: DatabaseRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # --- caller -----------------------------------------------------------------------

    @property
    def db(self) -> DatabaseRecord:
        assert self.database is not None, "route declared auth='db'"
        return self.database

    @property
    def who(self) -> Principal:
        assert self.principal is not None, "route declared auth"
        return self.principal

    def id_type(self, entity: str) -> IdType:
        from recoapi.core.idtypes import parse_id_type

        return parse_id_type(getattr(self.db, f"{entity}_id_type"))

    def path_id(self, param: str, entity: str) -> Any:
        """The id in the URL, decoded with the database's id type; ``~me`` for frontends."""
        raw = self.params[param]
        if raw == "~me":
            return self._frontend_id(entity)
        key = self.id_type(entity).from_path(raw)
        if self.who.role == "frontend" and entity in ("user", "session"):
            if key != self._frontend_id(entity):
                raise ForbiddenError(f"a frontend token may only access its own {entity}")
        return key

    def body_keys(self, entity: str, column: Any, field: str) -> np.ndarray:
        """A column of ids from the body in storage form: int64/uint64 for integer id
        types (vectorised), an object array otherwise."""
        id_type = self.id_type(entity)
        keys = id_type.from_body_array(column, field, self.fmt)
        if keys.dtype.kind in "iu":
            return id_type.keys_to_db(keys)
        out = np.empty(len(keys), object)
        out[:] = [id_type.to_db(k) for k in keys.tolist()]
        return out

    def _frontend_id(self, entity: str) -> Any:
        value = self.who.frontend_ids.get(entity)
        if value is None:
            raise WrongData(f"'~me' needs a token bound to a frontend {entity} id")
        return value

    # --- body and query -----------------------------------------------------------------

    def body(self, name: str, default: Any = ..., *, types: tuple[type, ...] | None = None) -> Any:
        if name not in self.payload or self.payload[name] is None:
            if default is ...:
                raise WrongData(f"field '{name}' is required", field=name)
            return default
        value = self.payload[name]
        if types is not None and not isinstance(value, types):
            raise WrongData(f"field '{name}' has the wrong type", field=name)
        return value

    def body_str(self, name: str, default: Any = ..., *, max_len: int = 1024) -> Any:
        value = self.body(name, default)
        if value is default:
            return value
        if not isinstance(value, str):
            raise WrongData(f"field '{name}' must be a string", field=name)
        if len(value) > max_len:
            raise WrongData(f"field '{name}' is longer than {max_len} characters", field=name)
        return value

    def body_bool(self, name: str, default: bool = False) -> bool:
        value = self.payload.get(name)
        if value is None:
            return default
        return parse_bool(value, name)

    def body_dict(self, name: str, default: Any = ...) -> Any:
        """A free-form object (metadata, properties...) as plain JSON values."""
        value = self.body(name, default, types=(dict,))
        return value if value is None or value is default else plain_json(value, name)

    def q(self, name: str, default: Any = None) -> Any:
        """A single query value; a body value of the same name counts too (POST recos)."""
        values = self.query.get(name)
        if values:
            return values[-1]
        return self.payload.get(name, default)

    def q_list(self, name: str) -> list[Any]:
        if name in self.query:
            return list(self.query[name])
        value = self.payload.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def q_int(self, name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
        value = self.q(name)
        if value is None:
            return default
        try:
            number = int(value)
            if isinstance(value, float) and number != value:
                raise ValueError
        except (TypeError, ValueError):
            raise WrongData(f"'{name}' must be an integer, got {value!r}", field=name) from None
        if number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise WrongData(f"'{name}' must be {bound}, got {number}", field=name)
        return number

    def q_float(self, name: str, default: float | None = None) -> float | None:
        value = self.q(name)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise WrongData(f"'{name}' must be a number, got {value!r}", field=name) from None
        if not math.isfinite(number):
            raise WrongData(f"'{name}' must be a finite number, got {value!r}", field=name)
        return number

    def q_bool(self, name: str, default: bool = False) -> bool:
        value = self.q(name)
        return default if value is None else parse_bool(value, name)


def parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if hasattr(value, "dtype") and value.dtype.kind == "b":
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise WrongData(f"'{name}' must be a boolean, got {value!r}", field=name)
