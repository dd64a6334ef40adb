"""Databases of an organization (ENDPOINTS.md §9.3)."""

from __future__ import annotations

import uuid
from typing import Any

from recoapi.api.request import Request
from recoapi.api.routing import ADMIN_ROLES, ALL_ROLES, BACKEND_ROLES, Route
from recoapi.api.util import merge_patch, page_answer
from recoapi.core.idtypes import parse_id_type
from recoapi.errors import DuplicatedError, WrongData
from recoapi.store.base import DatabaseRecord

DEFAULT_SESSION_ID_TYPE = "uuid"


def create_database(req: Request) -> dict[str, Any]:
    """Create an empty database; its id types are fixed from now on."""
    name = req.body_str("name", max_len=256).strip()
    if not name:
        raise WrongData("field 'name' must not be empty", field="name")
    types = {}
    for field in ("item_id_type", "user_id_type", "session_id_type"):
        value = req.body_str(field, DEFAULT_SESSION_ID_TYPE if field == "session_id_type" else ...)
        try:
            types[field] = parse_id_type(value).name
        except WrongData as exc:
            raise WrongData(f"field '{field}': {exc.message}", field=field) from None
    if req.state.store.find_database(req.who.org_id, name) is not None:
        raise DuplicatedError("database", name, name="DUPLICATED_DATABASE_NAME")
    record = DatabaseRecord(
        id=uuid.uuid4().hex,
        n=0,
        org_id=req.who.org_id,
        name=name,
        description=req.body_str("description", "", max_len=4096),
        core_config=req.body_dict("core_config", {}),
        metadata=req.body_dict("metadata", {}),
        **types,
    )
    return {"id": req.state.store.create_database(record).id}


def get_all_databases(req: Request) -> dict[str, Any]:
    amt, page = req.q_int("amt", 64, high=64), req.q_int("page", 1)
    rows = req.state.store.list_databases(req.who.org_id, (page - 1) * amt, amt + 1)
    return page_answer([r.to_public() for r in rows], page, amt, "databases")


def get_database(req: Request) -> dict[str, Any]:
    db = req.db
    return {
        **db.to_public(),
        "counters": req.state.store.counters(db.n),
        "core_config": db.core_config,
        "metadata": db.metadata,
    }


def _patched(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    db, preserve = req.db, req.body_bool("preserve")
    old = {"description": db.description, "core_config": db.core_config, "metadata": db.metadata}
    new = dict(old)
    if req.payload.get("description") is not None:
        new["description"] = req.body_str("description", max_len=4096)
    for field in ("core_config", "metadata"):
        if req.payload.get(field) is not None:
            new[field] = merge_patch(old[field], req.body_dict(field), preserve=preserve)
    return old, new


def partial_update_database(req: Request) -> None:
    _, new = _patched(req)
    req.state.store.update_database(req.db.id, **new)
    req.state.forget_database(req.db.id)


def partial_update_database_preview(req: Request) -> dict[str, Any]:
    old, new = _patched(req)
    return {"metadata_old": old, "metadata_new": new}


def delete_database(req: Request) -> None:
    """Delete the database and everything in it (ratings, catalog, models, tasks)."""
    req.state.engine.drop(req.db)
    req.state.store.delete_database(req.db.id)
    req.state.forget_database(req.db.id)


def status(req: Request) -> dict[str, Any]:
    """``pending`` until a first model is trained, then ``ready``."""
    return {"status": req.state.engine.status(req.db)}


def routes() -> list[Route]:
    return [
        Route("POST", "/v1/databases/", create_database, auth="org", roles=ADMIN_ROLES),
        Route("GET", "/v1/databases/", get_all_databases, auth="org", roles=BACKEND_ROLES),
        Route("GET", "/v1/databases/current/", get_database),
        Route("PATCH", "/v1/databases/current/", partial_update_database),
        Route("PATCH", "/v1/databases/current/preview/", partial_update_database_preview),
        Route("DELETE", "/v1/databases/current/", delete_database, roles=ADMIN_ROLES),
        Route("GET", "/v1/databases/current/status/", status, roles=ALL_ROLES, inline=True),
    ]
