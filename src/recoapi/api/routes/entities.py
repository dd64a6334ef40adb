"""Items and users with their properties (ENDPOINTS.md §9.5); users mirror items."""

from __future__ import annotations

from typing import Any

import numpy as np

from recoapi.api.bodies import entity_rows, single_entity_props
from recoapi.api.request import Request
from recoapi.api.routing import BACKEND_ROLES, Route
from recoapi.api.util import decode_cursor, encode_cursor
from recoapi.core.filters import bind_filters, filter_mask, parse_filters
from recoapi.core.properties import PropertySpec
from recoapi.errors import NotFoundError
from recoapi.store.specs import decode_cell, load_specs, property_columns

DEFAULT_PAGE = 300
MAX_PAGE = 5000


class Entities:
    """Handlers for one entity kind ('item' or 'user')."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.plural = f"{entity}s"

    # --- helpers ---------------------------------------------------------------------------

    def _key(self, req: Request) -> Any:
        return req.id_type(self.entity).to_db(req.path_id(f"{self.entity}_id", self.entity))

    def _index(self, req: Request, key: Any) -> int:
        index = req.state.store.vocab(req.db.n, self.entity).get(key)
        if index is None:
            raise NotFoundError(self.entity, key)
        return index

    def _public(
        self,
        req: Request,
        index: int,
        props: dict[str, Any],
        specs: dict[str, PropertySpec],
        wanted: set[str] | None = None,
    ) -> dict[str, Any]:
        id_type = req.id_type(self.entity)
        key = req.state.store.vocab(req.db.n, self.entity).keys[index]
        row = {f"{self.entity}_id": id_type.key_to_wire(id_type.from_db(key), req.fmt)}
        for name, value in props.items():
            spec = specs.get(name)
            if spec is not None and (wanted is None or name in wanted):
                row[name] = decode_cell(value, spec)
        return row

    def _split(self, rows: list[dict[str, Any]], specs: dict[str, PropertySpec]) -> dict[str, Any]:
        """Listing shape: scalar properties in rows, repeated ones in m2m arrays."""
        m2m: dict[str, list[dict[str, Any]]] = {n: [] for n, s in specs.items() if s.repeated}
        flat = []
        for position, row in enumerate(rows):
            flat.append({k: v for k, v in row.items() if k not in m2m})
            for name in m2m:
                m2m[name] += [
                    {f"{self.entity}_index": position, "value_id": v} for v in row.get(name, [])
                ]
        return {
            self.plural: flat,
            f"{self.plural}_m2m": [{"name": n, "array": a} for n, a in m2m.items() if a],
        }

    def _wanted(self, req: Request) -> set[str] | None:
        names = req.q_list("properties")
        return {str(n).lower() for n in names} if names else None

    # --- single entity -----------------------------------------------------------------------

    def get(self, req: Request) -> dict[str, Any]:
        index = self._index(req, self._key(req))
        found = req.state.store.get_entities(req.db.n, self.entity, np.array([index]))
        if index not in found:
            raise NotFoundError(self.entity, req.params[f"{self.entity}_id"])
        specs = load_specs(req.state.store, req.db.n, self.entity)
        return {self.entity: self._public(req, index, found[index], specs)}

    def replace(self, req: Request) -> None:
        specs = load_specs(req.state.store, req.db.n, self.entity)
        props = single_entity_props(req.body(self.entity), self.entity, specs, req.fmt)
        req.state.store.write_entities(
            req.db.n, self.entity, [self._key(req)], [props], replace=True
        )
        req.state.engine.on_catalog_change(req.db, self.entity)

    def patch(self, req: Request) -> dict[str, Any]:
        key = self._key(req)
        specs = load_specs(req.state.store, req.db.n, self.entity)
        props = single_entity_props(req.body(self.entity), self.entity, specs, req.fmt)
        index = req.state.store.vocab(req.db.n, self.entity).get(key)
        exists = index is not None and bool(
            req.state.store.get_entities(req.db.n, self.entity, np.array([index]))
        )
        if not exists and not req.body_bool("create_if_missing"):
            raise NotFoundError(self.entity, req.params[f"{self.entity}_id"])
        req.state.store.write_entities(req.db.n, self.entity, [key], [props], replace=False)
        req.state.engine.on_catalog_change(req.db, self.entity)
        return {f"{self.entity}_created": not exists, f"{self.entity}_modified": exists}

    def delete(self, req: Request) -> None:
        index = self._index(req, self._key(req))
        req.state.store.clear_entities(req.db.n, self.entity, np.array([index]))
        req.state.engine.on_catalog_change(req.db, self.entity)

    def delete_all(self, req: Request) -> None:
        """A user's properties, ratings and interactions."""
        index = self._index(req, self._key(req))
        req.state.store.clear_entities(req.db.n, self.entity, np.array([index]), everything=True)
        req.state.engine.on_user_cleared(req.db, index)

    # --- bulk ----------------------------------------------------------------------------------

    def bulk_write(self, req: Request) -> None:
        specs = load_specs(req.state.store, req.db.n, self.entity)
        id_type = req.id_type(self.entity)
        keys, props = entity_rows(req.payload, self.entity, id_type, specs, req.fmt)
        db_keys = [id_type.to_db(k) for k in keys.tolist()]
        replace = req.method == "PUT"
        if not replace and not req.body_bool("create_if_missing"):
            self._require_existing(req, db_keys)
        req.state.store.write_entities(req.db.n, self.entity, db_keys, props, replace=replace)
        req.state.engine.on_catalog_change(req.db, self.entity)

    def _require_existing(self, req: Request, db_keys: list[Any]) -> None:
        indices = req.state.store.vocab(req.db.n, self.entity).lookup(db_keys)
        found = req.state.store.get_entities(req.db.n, self.entity, indices)
        for key, index in zip(db_keys, indices.tolist(), strict=True):
            if index not in found:
                raise NotFoundError(
                    self.entity,
                    key,
                    f"the {self.entity} {key!s} does not exist; "
                    "pass create_if_missing=true to create it",
                )

    def list_by_ids(self, req: Request) -> dict[str, Any]:
        id_type = req.id_type(self.entity)
        keys = id_type.from_body_array(req.body(f"{self.plural}_id"), f"{self.plural}_id", req.fmt)
        indices = req.state.store.vocab(req.db.n, self.entity).lookup(
            [id_type.to_db(k) for k in keys.tolist()]
        )
        found = req.state.store.get_entities(req.db.n, self.entity, indices)
        specs, wanted = load_specs(req.state.store, req.db.n, self.entity), self._wanted(req)
        rows = [
            self._public(req, i, found[i], specs, wanted)
            for i in dict.fromkeys(indices.tolist())
            if i in found
        ]
        return self._split(rows, specs)

    def list_page(self, req: Request) -> dict[str, Any]:
        amt = req.q_int("amt", DEFAULT_PAGE, high=MAX_PAGE)
        after = (decode_cursor(req.q("cursor"), 1) or (-1,))[0]
        specs, wanted = load_specs(req.state.store, req.db.n, self.entity), self._wanted(req)
        filters = (
            bind_filters(parse_filters(req.q_list("filters")), specs)
            if req.q_list("filters")
            else []
        )
        rows: list[dict[str, Any]] = []
        exhausted = False
        while len(rows) < amt and not exhausted:
            batch = req.state.store.page_entities(req.db.n, self.entity, after, max(amt, 256))
            exhausted = len(batch) < max(amt, 256)
            keep = _matching(batch, filters, specs)
            for (index, props), ok in zip(batch, keep, strict=True):
                after = index
                if ok:
                    rows.append(self._public(req, index, props, specs, wanted))
                    if len(rows) == amt:
                        break
        has_next = bool(req.state.store.page_entities(req.db.n, self.entity, after, 1))
        answer = self._split(rows, specs)
        answer.update(has_next=has_next, next_cursor=encode_cursor(after) if has_next else None)
        return answer

    def delete_bulk(self, req: Request) -> None:
        id_type = req.id_type(self.entity)
        keys = id_type.from_body_array(req.body(f"{self.plural}_id"), f"{self.plural}_id", req.fmt)
        indices = req.state.store.vocab(req.db.n, self.entity).lookup(
            [id_type.to_db(k) for k in keys.tolist()]
        )
        req.state.store.clear_entities(req.db.n, self.entity, indices)
        req.state.engine.on_catalog_change(req.db, self.entity)

    def routes(self) -> list[Route]:
        one = f"/v1/{self.plural}/{{{self.entity}_id}}/properties/"
        bulk = f"/v1/{self.plural}-bulk/properties/"
        read_roles = BACKEND_ROLES | {"frontend"}
        table = [
            Route("GET", one, self.get, roles=read_roles),
            Route("PUT", one, self.replace),
            Route("PATCH", one, self.patch),
            Route("DELETE", one, self.delete),
            Route("PUT", bulk, self.bulk_write),
            Route("PATCH", bulk, self.bulk_write),
            Route("GET", bulk, self.list_page),
            Route("POST", bulk + "list/", self.list_by_ids, roles=read_roles),
            Route("DELETE", bulk, self.delete_bulk),
        ]
        if self.entity == "user":
            table.append(
                Route("DELETE", "/v1/users/{user_id}/*/", self.delete_all, roles=read_roles)
            )
        return [
            Route(r.method, r.template, r.handler, roles=r.roles, tag=self.plural) for r in table
        ]


def _matching(
    batch: list[tuple[int, dict[str, Any]]], filters: list[Any], specs: dict[str, PropertySpec]
) -> list[bool]:
    if not filters:
        return [True] * len(batch)
    columns = property_columns(specs, dict(enumerate(props for _, props in batch)), len(batch))
    return filter_mask(filters, {c.name: c for c in columns}, len(batch)).tolist()


def routes() -> list[Route]:
    return Entities("item").routes() + Entities("user").routes()
