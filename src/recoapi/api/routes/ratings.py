"""Ratings (ENDPOINTS.md §9.6): upserts keyed by (user, item), ratings in [1, 10]."""

from __future__ import annotations

from typing import Any

import numpy as np

from recoapi.api.bodies import (
    as_table,
    ratings_column,
    scalar_rating,
    scalar_timestamp,
    timestamps_column,
)
from recoapi.api.request import Request
from recoapi.api.routing import ALL_ROLES, Route
from recoapi.api.util import decode_cursor, encode_cursor, page_answer
from recoapi.errors import NotFoundError
from recoapi.store.base import RatingsArrays

MAX_USER_PAGE = 64
DEFAULT_LIST_PAGE = 1000
MAX_LIST_PAGE = 16384


def _user_key(req: Request) -> Any:
    return req.id_type("user").to_db(req.path_id("user_id", "user"))


def _write(
    req: Request, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, ts: np.ndarray
) -> None:
    """Store, then update the live profiles; one transaction per request."""
    arrays = req.state.store.upsert_ratings(req.db.n, users, items, ratings, ts)
    req.state.engine.on_ratings(req.db, arrays)


def create_or_update_rating(req: Request) -> None:
    """Rate one item for one user (overwrites an earlier rating of the pair)."""
    user = _user_key(req)
    item = req.id_type("item").to_db(req.path_id("item_id", "item"))
    rating = scalar_rating(req.body("rating"))
    ts = scalar_timestamp(req.payload.get("timestamp"))
    _write(req, _column([user]), _column([item]), np.array([rating], np.float32), np.array([ts]))


def create_or_update_user_ratings_bulk(req: Request) -> None:
    user = _user_key(req)
    table = as_table(req.body("ratings"), "ratings")
    items = req.body_keys("item", table.require("item_id", "ratings"), "ratings.item_id")
    ratings = ratings_column(table.require("rating", "ratings"), "ratings.rating")
    ts = timestamps_column(table.optional("timestamp"), table.n_rows, "ratings.timestamp")
    _write(req, _column([user] * table.n_rows), items, ratings, ts)


def create_or_update_ratings_bulk(req: Request) -> None:
    """Many users' ratings in one request (the reference client sends 16384 per chunk)."""
    table = as_table(req.body("ratings"), "ratings")
    users = req.body_keys("user", table.require("user_id", "ratings"), "ratings.user_id")
    items = req.body_keys("item", table.require("item_id", "ratings"), "ratings.item_id")
    ratings = ratings_column(table.require("rating", "ratings"), "ratings.rating")
    ts = timestamps_column(table.optional("timestamp"), table.n_rows, "ratings.timestamp")
    _write(req, users, items, ratings, ts)


def list_user_ratings(req: Request) -> dict[str, Any]:
    amt, page = req.q_int("amt", MAX_USER_PAGE, high=MAX_USER_PAGE), req.q_int("page", 1)
    user = _index_of(req, "user", _user_key(req))
    found = req.state.store.user_ratings(req.db.n, user)
    rows = _rows(req, found, with_user=False)[(page - 1) * amt : page * amt + 1]
    return page_answer(rows, page, amt, "user_ratings")


def list_ratings(req: Request) -> dict[str, Any]:
    amt = req.q_int("amt", DEFAULT_LIST_PAGE, high=MAX_LIST_PAGE)
    after = decode_cursor(req.q("cursor"), 2) or (-1, -1)
    found = req.state.store.page_ratings(req.db.n, (after[0], after[1]), amt + 1)
    has_next = len(found) > amt
    page = RatingsArrays(
        found.user[:amt], found.item[:amt], found.rating[:amt], found.timestamp[:amt]
    )
    cursor = encode_cursor(page.user[-1], page.item[-1]) if has_next else None
    return {
        "ratings": _rows(req, page, with_user=True),
        "has_next": has_next,
        "next_cursor": cursor,
    }


def delete_rating(req: Request) -> None:
    user = req.state.store.vocab(req.db.n, "user").get(_user_key(req))
    item = req.state.store.vocab(req.db.n, "item").get(
        req.id_type("item").to_db(req.path_id("item_id", "item"))
    )
    if user is None or item is None or not req.state.store.delete_rating(req.db.n, user, item):
        raise NotFoundError(
            "user_rating",
            f"({req.params['user_id']}, {req.params['item_id']})",
            name="USER_RATING_NOT_FOUND",
        )
    req.state.engine.on_ratings_deleted(req.db, user, item)


def delete_user_ratings(req: Request) -> None:
    user = _index_of(req, "user", _user_key(req))
    req.state.store.delete_user_ratings(req.db.n, user)
    req.state.engine.on_ratings_deleted(req.db, user, None)


def _index_of(req: Request, entity: str, key: Any) -> int:
    index = req.state.store.vocab(req.db.n, entity).get(key)
    if index is None:
        raise NotFoundError(entity, key)
    return index


def _rows(req: Request, found: RatingsArrays, *, with_user: bool) -> list[dict[str, Any]]:
    item_ids = _wire_ids(req, "item", found.item)
    user_ids = _wire_ids(req, "user", found.user) if with_user else None
    rows = []
    for n, (item_id, rating, ts) in enumerate(
        zip(item_ids, found.rating.tolist(), found.timestamp.tolist(), strict=True)
    ):
        row = {"item_id": item_id, "rating": rating, "timestamp": ts}
        if user_ids is not None:
            row = {"user_id": user_ids[n], **row}
        rows.append(row)
    return rows


def _wire_ids(req: Request, entity: str, indices: np.ndarray) -> list[Any]:
    id_type = req.id_type(entity)
    keys = req.state.store.vocab(req.db.n, entity).keys
    return [id_type.key_to_wire(id_type.from_db(keys[i]), req.fmt) for i in indices.tolist()]


def _column(values: list[Any]) -> np.ndarray:
    if values and isinstance(values[0], int):
        return np.array(values, np.int64)
    out = np.empty(len(values), object)
    out[:] = values
    return out


def routes() -> list[Route]:
    mine = ALL_ROLES
    return [
        Route("PUT", "/v1/users/{user_id}/ratings/{item_id}/", create_or_update_rating, roles=mine),
        Route("DELETE", "/v1/users/{user_id}/ratings/{item_id}/", delete_rating, roles=mine),
        Route(
            "PUT", "/v1/users/{user_id}/ratings/", create_or_update_user_ratings_bulk, roles=mine
        ),
        Route("GET", "/v1/users/{user_id}/ratings/", list_user_ratings, roles=mine),
        Route("DELETE", "/v1/users/{user_id}/ratings/", delete_user_ratings, roles=mine),
        Route("PUT", "/v1/ratings-bulk/", create_or_update_ratings_bulk),
        Route("GET", "/v1/ratings-bulk/", list_ratings),
    ]
