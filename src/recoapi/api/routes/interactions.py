"""Interactions of users and anonymous sessions, and session resolution (ENDPOINTS.md §9.7).

Interactions are events: a retried chunk is recognised (same subject, item, type and time)
and stored once. User interactions feed the live profiles as implicit feedback.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recoapi.api.bodies import (
    as_table,
    interaction_properties,
    interaction_types,
    scalar_timestamp,
    timestamps_column,
)
from recoapi.api.request import Request
from recoapi.api.routing import ALL_ROLES, Route
from recoapi.api.util import decode_cursor, encode_cursor
from recoapi.errors import NotFoundError, WrongData
from recoapi.store.base import InteractionsArrays

DEFAULT_PAGE = 1000
MAX_PAGE = 16384


def _path_key(req: Request, entity: str) -> Any:
    return req.id_type(entity).to_db(req.path_id(f"{entity}_id", entity))


def _events(
    req: Request, subject: str, subjects: np.ndarray | None
) -> tuple[np.ndarray, InteractionsArrays]:
    """Parse the ``interactions`` table; ``subjects`` given when the path names the subject."""
    table = as_table(req.body("interactions"), "interactions")
    if subjects is None:
        subjects = req.body_keys(
            subject, table.require(f"{subject}_id", "interactions"), f"interactions.{subject}_id"
        )
    items = req.body_keys("item", table.require("item_id", "interactions"), "interactions.item_id")
    types = interaction_types(
        table.require("interaction_type", "interactions"), "interactions.interaction_type"
    )
    ts = timestamps_column(table.optional("timestamp"), table.n_rows, "interactions.timestamp")
    props = interaction_properties(
        table.optional("properties"), table.n_rows, "interactions.properties"
    )
    return items, InteractionsArrays(
        subjects, np.zeros(0, np.int64), types, ts, props, np.zeros(0, np.int64)
    )


def _single(req: Request, subject: str) -> tuple[np.ndarray, InteractionsArrays]:
    key = _path_key(req, subject)
    item = _path_key(req, "item")
    kind = req.body_str("interaction_type", max_len=64)
    if not kind:
        raise WrongData("field 'interaction_type' must not be empty", field="interaction_type")
    props = req.body_dict("properties", None)
    items = np.empty(1, object)
    items[0] = item
    subjects = np.empty(1, object)
    subjects[0] = key
    types = np.array([kind], object)
    ts = np.array([scalar_timestamp(req.payload.get("timestamp"))])
    return items, InteractionsArrays(
        subjects, np.zeros(0, np.int64), types, ts, [props], np.zeros(0, np.int64)
    )


def _store(
    req: Request, subject: str, items: np.ndarray, rows: InteractionsArrays
) -> dict[str, Any]:
    keyed = InteractionsArrays(
        rows.subject, items, rows.type, rows.timestamp, rows.properties, rows.seq
    )
    events = req.state.store.insert_interactions(req.db.n, subject, keyed)
    if subject == "user":
        req.state.engine.on_interactions(req.db, events)
    return {"warnings": []}


def create_interaction(req: Request) -> dict[str, Any]:
    return _store(req, "user", *_single(req, "user"))


def create_session_interaction(req: Request) -> dict[str, Any]:
    return _store(req, "session", *_single(req, "session"))


def create_interactions_bulk(req: Request) -> dict[str, Any]:
    return _store(req, "user", *_events(req, "user", None))


def create_sessions_interactions_bulk(req: Request) -> dict[str, Any]:
    return _store(req, "session", *_events(req, "session", None))


def _bulk_for_path_subject(req: Request, subject: str) -> dict[str, Any]:
    """A bulk whose rows all belong to the user or session named in the path."""
    n = len(as_table(req.body("interactions"), "interactions").columns.get("item_id", []))
    subjects = np.empty(n, object)
    subjects[:] = [_path_key(req, subject)] * n
    return _store(req, subject, *_events(req, subject, subjects))


def create_user_interactions_bulk(req: Request) -> dict[str, Any]:
    return _bulk_for_path_subject(req, "user")


def create_session_interactions_bulk(req: Request) -> dict[str, Any]:
    return _bulk_for_path_subject(req, "session")


# --- listings --------------------------------------------------------------------------------


def _listing(
    req: Request, subject: str, *, subject_key: Any = None, with_subject: bool
) -> dict[str, Any]:
    amt = req.q_int("amt", DEFAULT_PAGE, high=MAX_PAGE)
    after = (decode_cursor(req.q("cursor"), 1) or (0,))[0]
    start, end = req.q_float("start_timestamp"), req.q_float("end_timestamp")
    if start is not None and end is not None and start >= end:
        raise WrongData("'start_timestamp' must be before 'end_timestamp'", field="start_timestamp")
    found = req.state.store.page_interactions(
        req.db.n,
        subject,
        after=after,
        limit=amt + 1,
        subject_key=subject_key,
        start=start,
        end=end,
        types=[str(t) for t in req.q_list("interaction_types")] or None,
    )
    has_next = len(found) > amt
    rows = _rows(req, subject, found, amt, with_subject)
    cursor = encode_cursor(found.seq[amt - 1]) if has_next else None
    return {"interactions": rows, "has_next": has_next, "next_cursor": cursor}


def _rows(
    req: Request, subject: str, found: InteractionsArrays, amt: int, with_subject: bool
) -> list[dict[str, Any]]:
    item_type = req.id_type("item")
    subject_type = req.id_type(subject)
    item_keys = req.state.store.vocab(req.db.n, "item").keys
    user_keys = req.state.store.vocab(req.db.n, "user").keys
    rows = []
    for n in range(min(amt, len(found))):
        row: dict[str, Any] = {}
        if with_subject:
            key = user_keys[found.subject[n]] if subject == "user" else found.subject[n]
            row[f"{subject}_id"] = subject_type.key_to_wire(subject_type.from_db(key), req.fmt)
        row["item_id"] = item_type.key_to_wire(item_type.from_db(item_keys[found.item[n]]), req.fmt)
        row["interaction_type"] = found.type[n]
        row["timestamp"] = float(found.timestamp[n])
        if found.properties[n] is not None:
            row["properties"] = found.properties[n]
        rows.append(row)
    return rows


def list_interactions(req: Request) -> dict[str, Any]:
    return _listing(req, "user", with_subject=True)


def list_user_interactions(req: Request) -> dict[str, Any]:
    index = req.state.store.vocab(req.db.n, "user").get(_path_key(req, "user"))
    if index is None:
        raise NotFoundError("user", req.params["user_id"])
    return _listing(req, "user", subject_key=index, with_subject=False)


def list_sessions_interactions(req: Request) -> dict[str, Any]:
    return _listing(req, "session", with_subject=True)


def list_session_interactions(req: Request) -> dict[str, Any]:
    return _listing(req, "session", subject_key=_path_key(req, "session"), with_subject=False)


# --- sessions --------------------------------------------------------------------------------


def resolve_session(req: Request) -> None:
    """Attach an anonymous session to a user (a user may own many sessions)."""
    session = _path_key(req, "session")
    user_type = req.id_type("user")
    user = user_type.to_db(user_type.from_body(req.body("user_id"), "user_id", req.fmt))
    ts = scalar_timestamp(req.payload.get("timestamp"))
    req.state.engine.resolve_session(req.db, session, user, ts)


def list_resolved_sessions(req: Request) -> dict[str, Any]:
    amt = req.q_int("amt", DEFAULT_PAGE, high=MAX_PAGE)
    after = (decode_cursor(req.q("cursor"), 1) or (0,))[0]
    users = None
    if req.payload.get("users_id") is not None:
        keys = req.body_keys("user", req.payload["users_id"], "users_id")
        users = req.state.store.vocab(req.db.n, "user").lookup(keys)
        users = users[users >= 0]
    found = req.state.store.page_resolved_sessions(req.db.n, users, after, amt + 1)
    user_type, session_type = req.id_type("user"), req.id_type("session")
    user_keys = req.state.store.vocab(req.db.n, "user").keys
    rows = [
        {
            "session_id": session_type.key_to_wire(session_type.from_db(session), req.fmt),
            "user_id": user_type.key_to_wire(user_type.from_db(user_keys[user]), req.fmt),
            "timestamp": ts,
        }
        for _, session, user, ts in found[:amt]
    ]
    has_next = len(found) > amt
    return {
        "resolved_sessions": rows,
        "has_next": has_next,
        "next_cursor": encode_cursor(found[amt - 1][0]) if has_next else None,
    }


def routes() -> list[Route]:
    mine = ALL_ROLES
    return [
        Route(
            "POST", "/v1/users/{user_id}/interactions/{item_id}/", create_interaction, roles=mine
        ),
        Route("POST", "/v1/interactions-bulk/", create_interactions_bulk),
        Route("GET", "/v1/interactions-bulk/", list_interactions),
        Route(
            "POST",
            "/v1/users/{user_id}/interactions-bulk/",
            create_user_interactions_bulk,
            roles=mine,
        ),
        Route("GET", "/v1/users/{user_id}/interactions-bulk/", list_user_interactions, roles=mine),
        Route(
            "POST",
            "/v1/sessions/{session_id}/items/{item_id}/interactions/",
            create_session_interaction,
            roles=mine,
        ),
        Route("POST", "/v1/sessions-interactions-bulk/", create_sessions_interactions_bulk),
        Route("GET", "/v1/sessions-interactions-bulk/", list_sessions_interactions),
        Route(
            "POST",
            "/v1/sessions/{session_id}/interactions-bulk/",
            create_session_interactions_bulk,
            roles=mine,
        ),
        Route(
            "GET",
            "/v1/sessions/{session_id}/interactions-bulk/",
            list_session_interactions,
            roles=mine,
        ),
        Route("POST", "/v1/sessions/{session_id}/resolve/", resolve_session, roles=mine),
        Route("POST", "/v1/resolved-sessions/", list_resolved_sessions),
    ]
