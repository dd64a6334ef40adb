"""Recommendation endpoints (ENDPOINTS.md §9.8). The hot paths: they run on the event loop
and read only the engine's in-memory state."""

from __future__ import annotations

from typing import Any

import numpy as np

from recoapi.api.bodies import as_table, interaction_types, ratings_column
from recoapi.api.request import Request
from recoapi.api.routing import ALL_ROLES, Route
from recoapi.api.util import decode_cursor, encode_cursor
from recoapi.core.properties import decode_from_storage
from recoapi.engine.runtime import RecoQuery
from recoapi.errors import NotFoundError, WrongData
from recoapi.store.specs import load_specs

DEFAULT_AMT = 10
MAX_AMT = 64
CONTEXT_RATING = 8.0  # context items weigh like a liked item in the profile


def _query(req: Request, reco_type: str, exclude_default: bool = False) -> RecoQuery:
    amt = req.q_int("amt", DEFAULT_AMT, high=MAX_AMT)
    cursor = decode_cursor(req.q("cursor"), 2)
    filters, reranking = req.q_list("filters"), req.q_list("reranking")
    exclude = req.q_bool("exclude_rated_items", exclude_default)
    scenario = _scenario(req, reco_type)
    if scenario:
        filters += list(scenario.get("filters") or [])
        reranking += list(scenario.get("reranking") or [])
        if scenario.get("exclude_rated_items") is not None and req.q("exclude_rated_items") is None:
            exclude = bool(scenario["exclude_rated_items"])
    return RecoQuery(amt, cursor[1] if cursor else 0, tuple(filters), tuple(reranking), exclude)


def _scenario(req: Request, reco_type: str) -> dict[str, Any] | None:
    """The 'case' rules of the named scenario, else of the default one (unless skipped)."""
    name = req.q("scenario")
    if not name and not req.q_bool("skip_default_scenario"):
        name = req.state.store.get_default_scenario(req.db.n, reco_type)
    if not name:
        return None
    found = req.state.store.get_scenario(req.db.n, reco_type, str(name))
    if found is None:
        raise NotFoundError("scenario", name)
    return found.get("case") if found.get("scenario_type") == "case" else None


def _answer(
    req: Request, ranked: np.ndarray, serial: int, query: RecoQuery, reco_type: str
) -> dict[str, Any]:
    req.extra["ranked"] = ranked
    id_type = req.id_type("item")
    keys = req.state.store.vocab(req.db.n, "item").keys
    ids = id_type.to_wire([id_type.from_db(keys[i]) for i in ranked.tolist()], req.fmt)
    return {
        "items_id": ids,
        "next_cursor": encode_cursor(serial, query.offset + len(ranked)),
        "evaluated_scenarios": {"reco_type": reco_type} if reco_type.startswith("generic") else {},
        "warnings": req.extra.get("warnings", []),
    }


def _specs(req: Request) -> Any:
    return load_specs(req.state.store, req.db.n, "item")


def _item_index(req: Request, key: Any, raw: Any) -> int:
    index = req.state.store.vocab(req.db.n, "item").get(key)
    if index is None:
        raise NotFoundError("item", raw)
    return index


def _user_index(req: Request, key: Any, raw: Any) -> int:
    index = req.state.store.vocab(req.db.n, "user").get(key)
    if index is None:
        raise NotFoundError("user", raw)
    return index


# --- item, user, session -----------------------------------------------------------------------


def item_to_items(req: Request) -> dict[str, Any]:
    """Items similar to an item."""
    req.state.engine.check_ready(req.db)
    key = req.id_type("item").to_db(req.path_id("item_id", "item"))
    return _similar(req, _item_index(req, key, req.params["item_id"]), "item_to_items")


def _similar(req: Request, item: int, reco_type: str) -> dict[str, Any]:
    query = _query(req, reco_type)
    ranked, serial = req.state.engine.similar_items(req.db, item, query, _specs(req))
    return _answer(req, ranked, serial, query, reco_type)


def user_to_items(req: Request) -> dict[str, Any]:
    """Items for a known user, from their current ratings and interactions."""
    req.state.engine.check_ready(req.db)
    key = req.id_type("user").to_db(req.path_id("user_id", "user"))
    return _user(req, _user_index(req, key, req.params["user_id"]), "profile_to_items")


def _user(
    req: Request, user: int, reco_type: str, context: np.ndarray | None = None
) -> dict[str, Any]:
    query = _query(req, reco_type, exclude_default=True)
    if context is None:
        ranked, serial = req.state.engine.user_items(req.db, user, query, _specs(req))
        return _answer(req, ranked, serial, query, reco_type)
    items, ratings, types = req.state.engine.user_events(req.db, user)
    return _profile(req, *_with_context(items, ratings, types, context), query, reco_type)


def _profile(
    req: Request,
    items: np.ndarray,
    ratings: np.ndarray,
    types: np.ndarray | None,
    query: RecoQuery,
    reco_type: str,
) -> dict[str, Any]:
    ranked, serial = req.state.engine.profile_items(
        req.db, items, ratings, types, query, _specs(req)
    )
    return _answer(req, ranked, serial, query, reco_type)


def session_events(req: Request) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The profile of an anonymous session, from the body; nothing is stored."""
    ratings, interactions = req.payload.get("ratings"), req.payload.get("interactions")
    if _present(ratings) and _present(interactions):
        raise WrongData("give 'ratings' or 'interactions', not both", field="ratings")
    vocab, id_type = req.state.store.vocab(req.db.n, "item"), req.id_type("item")
    if _present(ratings):
        table = as_table(ratings, "ratings")
        items = _session_items(
            req, table.require("item_id", "ratings"), "ratings.item_id", vocab, id_type
        )
        return (
            items,
            ratings_column(table.require("rating", "ratings"), "ratings.rating").astype(float),
            None,
        )
    if _present(interactions):
        table = as_table(interactions, "interactions")
        items = _session_items(
            req, table.require("item_id", "interactions"), "interactions.item_id", vocab, id_type
        )
        types = interaction_types(
            table.require("interaction_type", "interactions"), "interactions.interaction_type"
        )
        return items, np.full(len(items), np.nan), types
    return np.zeros(0, np.int64), np.zeros(0), None


def _present(value: Any) -> bool:
    return value is not None and len(value) > 0


def _session_items(req: Request, column: Any, field: str, vocab: Any, id_type: Any) -> np.ndarray:
    keys = id_type.from_body_array(column, field, req.fmt)
    indices = vocab.lookup([id_type.to_db(k) for k in keys.tolist()])
    unknown = int((indices < 0).sum())
    if unknown:
        req.extra.setdefault("warnings", []).append(
            f"{unknown} unknown item(s) in the session were ignored"
        )
    return indices


def session_to_items(req: Request) -> dict[str, Any]:
    """Items for an anonymous session described by the ratings or interactions in the body."""
    req.state.engine.check_ready(req.db)
    query = _query(req, "session_to_items", exclude_default=True)
    return _profile(req, *session_events(req), query, "session_to_items")


# --- derived routes ------------------------------------------------------------------------------


def _context(req: Request) -> np.ndarray:
    table = as_table(req.body("context_items"), "context_items")
    if "item_id" in table.columns:
        column = table.columns["item_id"]
    else:
        raise WrongData("'context_items' rows need an 'item_id' field", field="context_items")
    return _session_items(
        req,
        column,
        "context_items.item_id",
        req.state.store.vocab(req.db.n, "item"),
        req.id_type("item"),
    )


def _with_context(
    items: np.ndarray, ratings: np.ndarray, types: np.ndarray | None, context: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    context = context[context >= 0]
    all_types = (
        None if types is None else np.concatenate([types, np.array([None] * len(context), object)])
    )
    return (
        np.concatenate([items, context]),
        np.concatenate([ratings, np.full(len(context), CONTEXT_RATING)]),
        all_types,
    )


def session_to_items_with_context(req: Request) -> dict[str, Any]:
    req.state.engine.check_ready(req.db)
    query = _query(req, "session_to_items_w_ctx_items", exclude_default=True)
    return _profile(
        req,
        *_with_context(*session_events(req), _context(req)),
        query,
        "session_to_items_w_ctx_items",
    )


def user_to_items_with_context(req: Request) -> dict[str, Any]:
    req.state.engine.check_ready(req.db)
    key = req.id_type("user").to_db(req.path_id("user_id", "user"))
    user = _user_index(req, key, req.params["user_id"])
    return _user(req, user, "profile_to_items_w_ctx_items", _context(req))


def users_group_to_items(req: Request) -> dict[str, Any]:
    """Items for a group: the members' feedback pooled into one profile."""
    req.state.engine.check_ready(req.db)
    table = as_table(req.body("users"), "users")
    id_type = req.id_type("user")
    keys = id_type.from_body_array(table.require("user_id", "users"), "users.user_id", req.fmt)
    parts = [
        req.state.engine.user_events(req.db, _user_index(req, id_type.to_db(raw), raw))
        for raw in keys.tolist()
    ]
    items = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    ratings = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    types = np.concatenate([p[2] for p in parts]) if parts else None
    return _profile(
        req,
        items,
        ratings,
        types,
        _query(req, "profile_to_items", exclude_default=True),
        "profile_to_items",
    )


def generic_to_items(req: Request) -> dict[str, Any]:
    """Picks item-, user- or session-based recommendations from the inputs given."""
    req.state.engine.check_ready(req.db)
    if req.payload.get("item_id") is not None:
        item_type = req.id_type("item")
        raw = req.payload["item_id"]
        index = _item_index(req, item_type.to_db(item_type.from_body(raw, "item_id", req.fmt)), raw)
        return _similar(req, index, "generic_item_to_items")
    if req.payload.get("user_id") is not None:
        user_type = req.id_type("user")
        raw = req.payload["user_id"]
        return _user(
            req,
            _user_index(req, user_type.to_db(user_type.from_body(raw, "user_id", req.fmt)), raw),
            "generic_profile_to_items",
        )
    query = _query(req, "generic_session_to_items", exclude_default=True)
    return _profile(req, *session_events(req), query, "generic_session_to_items")


def precomputed_item_to_items(req: Request) -> dict[str, Any]:
    """Served live: the model is fast enough that nothing needs precomputing."""
    return {"items_id": item_to_items(req)["items_id"]}


def precomputed_user_to_items(req: Request) -> dict[str, Any]:
    return {"items_id": user_to_items(req)["items_id"]}


def item_properties_unsupported(req: Request) -> dict[str, Any]:
    raise WrongData(
        "recommendation/items-properties/items/ is not supported by recoapi: recommend from an "
        "existing item (recommendation/items/{id}/items/) or a session instead",
        name="NOT_SUPPORTED",
    )


def _top_property_values(req: Request, prop: str) -> dict[str, Any]:
    """The values of ``prop`` most present among the top recommended items, rank-weighted."""
    spec = _specs(req).get(prop.lower())
    if spec is None:
        raise NotFoundError("item_property", prop, name="PROPERTY_NOT_FOUND")
    ranked = req.extra["ranked"]
    found = req.state.store.get_entities(req.db.n, "item", ranked)
    scores: dict[Any, float] = {}
    for rank, index in enumerate(ranked.tolist()):
        value = found.get(index, {}).get(spec.name)
        values = [] if value is None else value if spec.repeated else [value]
        for v in values:
            scores[v] = scores.get(v, 0.0) + 1.0 / (rank + 1)
    best = sorted(scores, key=lambda v: -scores[v])[: req.extra["values_amt"]]
    return {"properties": [decode_from_storage(v, spec.value_type) for v in best]}


def user_to_item_properties(req: Request) -> dict[str, Any]:
    _with_amt(req, user_to_items)
    return _top_property_values(req, req.params["prop"])


def session_to_item_properties(req: Request) -> dict[str, Any]:
    _with_amt(req, session_to_items)
    return _top_property_values(req, req.params["prop"])


def _with_amt(req: Request, handler: Any) -> None:
    """Run a reco handler over the widest page; ``amt`` then counts property values."""
    req.extra["values_amt"] = req.q_int("amt", 16, high=MAX_AMT)
    req.query["amt"] = [str(MAX_AMT)]
    req.payload.pop("amt", None)
    handler(req)


def routes() -> list[Route]:
    r = "/v1/recommendation/"
    fast = dict(roles=ALL_ROLES, inline=True, tag="recommendation")
    return [
        Route("GET", r + "items/{item_id}/items/", item_to_items, **fast),
        Route("GET", r + "users/{user_id}/items/", user_to_items, **fast),
        Route("POST", r + "sessions/items/", session_to_items, **fast),
        Route("POST", r + "generic/items/", generic_to_items, **fast),
        Route("POST", r + "users-groups/items/", users_group_to_items, **fast),
        Route("POST", r + "context-items/sessions/items/", session_to_items_with_context, **fast),
        Route(
            "POST", r + "context-items/users/{user_id}/items/", user_to_items_with_context, **fast
        ),
        Route("GET", r + "precomputed/items/{item_id}/items/", precomputed_item_to_items, **fast),
        Route("GET", r + "precomputed/users/{user_id}/items/", precomputed_user_to_items, **fast),
        Route("POST", r + "items-properties/items/", item_properties_unsupported, **fast),
        Route(
            "GET",
            r + "users/{user_id}/items-properties/{prop}/",
            user_to_item_properties,
            roles=ALL_ROLES,
            tag="recommendation",
        ),
        Route(
            "POST",
            r + "sessions/items-properties/{prop}/",
            session_to_item_properties,
            roles=ALL_ROLES,
            tag="recommendation",
        ),
    ]
