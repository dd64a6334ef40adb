"""Typed item and user properties (ENDPOINTS.md §9.4)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from recoapi.api.request import Request
from recoapi.api.routing import Route
from recoapi.core.properties import parse_property_name, parse_value_type
from recoapi.errors import DuplicatedError, NotFoundError
from recoapi.store.specs import load_specs


def _public(spec: Any, entity: str) -> dict[str, Any]:
    answer = {
        "property_name": spec.name,
        "value_type": spec.value_type.name,
        "repeated": spec.repeated,
    }
    if entity == "user":
        answer["indexed"] = spec.indexed
    return answer


def _create(req: Request, entity: str) -> None:
    name = parse_property_name(req.body_str("property_name", max_len=256))
    value_type = parse_value_type(req.body_str("value_type", max_len=64))
    if name in load_specs(req.state.store, req.db.n, entity):
        raise DuplicatedError(f"{entity}_property", name, name="DUPLICATED_PROPERTY")
    req.state.store.create_property(
        req.db.n, entity, name, value_type.name, req.body_bool("repeated"), req.body_bool("indexed")
    )
    req.state.engine.on_catalog_change(req.db, entity)


def _spec(req: Request, entity: str) -> Any:
    name = parse_property_name(unquote(req.params["name"]))
    spec = load_specs(req.state.store, req.db.n, entity).get(name)
    if spec is None:
        raise NotFoundError(f"{entity}_property", name, name="PROPERTY_NOT_FOUND")
    return spec


def _get(req: Request, entity: str) -> dict[str, Any]:
    return _public(_spec(req, entity), entity)


def _list(req: Request, entity: str) -> dict[str, Any]:
    specs = load_specs(req.state.store, req.db.n, entity)
    return {"properties": [_public(spec, entity) for spec in specs.values()]}


def _delete(req: Request, entity: str) -> None:
    spec = _spec(req, entity)
    req.state.store.delete_property(req.db.n, entity, spec.name)
    req.state.engine.on_catalog_change(req.db, entity)


def routes() -> list[Route]:
    table = []
    for entity in ("item", "user"):
        base = f"/v1/{entity}s-properties/"

        def bind(fn: Any, entity: str = entity) -> Any:
            def handler(req: Request) -> Any:
                return fn(req, entity)

            handler.__doc__ = f"{fn.__name__.strip('_').capitalize()} {entity} properties."
            return handler

        table += [
            Route("POST", base, bind(_create), tag="properties"),
            Route("GET", base, bind(_list), tag="properties"),
            Route("GET", base + "{name}/", bind(_get), tag="properties"),
            Route("DELETE", base + "{name}/", bind(_delete), tag="properties"),
        ]
    return table
