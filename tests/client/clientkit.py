"""Helpers for the client tests: a logged-in ``RecoClient`` on a fresh database, small datasets.

Plain functions rather than fixtures, so that nothing here competes with ``tests/conftest.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from recoapi.client import RecoClient
from server import ROOT_EMAIL, ROOT_PASSWORD

ITEMS_DTYPE = [("item_id", "<u4"), ("year", "<i2")]
RATINGS_DTYPE = [("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")]


def connect(
    url: str,
    serializer: str = "json",
    *,
    id_types: tuple[str, str, str | None] = ("uint32", "uint32", None),
    email: str = ROOT_EMAIL,
    password: str = ROOT_PASSWORD,
    **options: Any,
) -> RecoClient:
    """A client logged in as root on a new database with the given item, user, session id types."""
    options.setdefault("progress", False)
    item_type, user_type, session_type = id_types
    db = _creator(url, email, password).create_database(
        f"client-{uuid.uuid4().hex[:10]}",
        "client test",
        item_type,
        user_type,
        session_id_type=session_type,
    )
    client = RecoClient(url, serializer=serializer, **options)
    client.login_individual(email, password, db_id=db["id"])
    return client


_CREATORS: dict[tuple[str, str], RecoClient] = {}


def _creator(url: str, email: str, password: str) -> RecoClient:
    """One organization-level login per server (password hashing makes logins slow on purpose)."""
    if (url, email) not in _CREATORS:
        client = RecoClient(url, progress=False)
        client.login_individual(email, password)
        _CREATORS[(url, email)] = client
    return _CREATORS[(url, email)]


def small_catalog() -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Five items, their years, and genres for items 0, 1 and 4 (item 3 has none)."""
    items = np.array(
        [(10, 1995), (20, 1996), (30, 1990), (40, 2001), (50, 1977)], dtype=ITEMS_DTYPE
    )
    genres = np.array(
        [(0, "Comedy"), (0, "Drama"), (1, "Action"), (2, "Drama"), (4, "Sci-Fi"), (4, "Action")],
        dtype=[("item_index", "<u4"), ("value_id", "<U18")],
    )
    return items, [{"name": "genres", "array": genres}]


def declare_catalog(client: RecoClient) -> None:
    client.create_item_property("year", "int16")
    client.create_item_property("genres", "unicode18", repeated=True)


def block_ratings(n_users: int = 40, n_items: int = 20, seed: int = 42) -> np.ndarray:
    """Two taste groups: users 1..n/2 love items 1..n_items/2 and dislike the rest; the other
    users the opposite.

    Every user rates a random half of the items, so each group has unseen items it should be
    recommended from its own block.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        first_group = user <= n_users // 2
        for item in sorted(
            rng.choice(np.arange(1, n_items + 1), n_items // 2, replace=False).tolist()
        ):
            liked = (item <= n_items // 2) == first_group
            rows.append((user, item, 9.0 if liked else 2.0, 1.6e9 + item))
    return np.array(rows, dtype=RATINGS_DTYPE)


def as_dicts(arr: np.ndarray) -> list[dict[str, Any]]:
    names = arr.dtype.names or ()
    return [dict(zip(names, row, strict=True)) for row in arr.tolist()]
