"""Shared setup of the store contract tests: where a store lives, and small data builders.

Every test runs once per backend: SQLite on a real file, PostgreSQL on the real server in a
schema of its own (dropped afterwards). ``RECOAPI_TEST_POSTGRES_URL`` names the server
(default: the local one, trust auth); when it cannot be reached those tests skip, saying so.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recoapi.config import Settings
from recoapi.errors import StoreError
from recoapi.store import open_store
from recoapi.store.base import DatabaseRecord, InteractionsArrays, RatingsArrays, Store, TaskRecord

POSTGRES_URL = os.environ.get(
    "RECOAPI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# what a write refused by the database itself raises (the PostgreSQL store wraps its errors)
DB_ERRORS = (sqlite3.Error, StoreError)


@functools.cache
def postgres_unavailable() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed: pip install 'recoapi[postgres]'"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL unreachable at {POSTGRES_URL}: {first_line}"
    return None


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass
class Place:
    """Where a store keeps its data; each ``open`` is a new store instance on that data."""

    backend: str
    url: str
    data_dir: Path
    schema: str | None = None

    def open(self) -> Store:
        return open_store(Settings(data_dir=self.data_dir, secret_key="x", store_url=self.url))

    def drop(self) -> None:
        if self.schema is not None:
            drop_schema(self.schema)


def make_place(backend: str, tmp_path: Path) -> Place:
    if backend == "sqlite":
        return Place(backend, f"sqlite://{tmp_path / 'store.sqlite3'}", tmp_path)
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = f"recoapi_store_test_{uuid.uuid4().hex[:12]}"
    return Place(backend, with_schema(POSTGRES_URL, schema), tmp_path, schema)


# --- builders --------------------------------------------------------------------------------


def new_db(store: Store, org_id: str | None = None, **fields: Any) -> DatabaseRecord:
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "n": 0,
        "org_id": org_id or store.create_organization("example.com"),
        "name": f"db-{uuid.uuid4().hex[:8]}",
        "description": "",
        "item_id_type": "uint32",
        "user_id_type": "uint32",
        "session_id_type": "uuid",
    }
    return store.create_database(DatabaseRecord(**{**values, **fields}))


def keys(*values: Any) -> np.ndarray:
    """A key column as routes pass it: int64 for int ids, objects for str and bytes ids."""
    if all(isinstance(v, int) for v in values):
        return np.array(values, np.int64)
    column = np.empty(len(values), object)
    column[:] = values
    return column


def ratings(store: Store, dbn: int, rows: list[tuple[Any, Any, float, float]]) -> RatingsArrays:
    """Upsert ``(user key, item key, rating, timestamp)`` rows."""
    users, items, values, ts = zip(*rows, strict=True)
    return store.upsert_ratings(
        dbn, keys(*users), keys(*items), np.array(values, np.float32), np.array(ts, np.float64)
    )


def events(
    subjects: list[Any],
    items: list[Any],
    types: list[str],
    ts: list[float] | None = None,
    props: list[Any] | None = None,
) -> InteractionsArrays:
    n = len(items)
    return InteractionsArrays(
        keys(*subjects),
        keys(*items),
        keys(*types),
        np.array(ts if ts is not None else [1.0] * n, np.float64),
        list(props) if props is not None else [None] * n,
        np.zeros(0, np.int64),
    )


def rating_rows(found: RatingsArrays) -> list[tuple[int, int, float, float]]:
    return sorted(
        zip(
            found.user.tolist(),
            found.item.tolist(),
            found.rating.tolist(),
            found.timestamp.tolist(),
            strict=True,
        )
    )


def event_rows(found: InteractionsArrays) -> list[tuple[Any, ...]]:
    return list(
        zip(
            found.subject.tolist(),
            found.item.tolist(),
            found.type.tolist(),
            found.timestamp.tolist(),
            found.properties,
            strict=True,
        )
    )


def fill(store: Store, dbn: int) -> None:
    """One of everything a database holds."""
    store.create_property(dbn, "item", "genres", "unicode8", True, False)
    store.write_entities(dbn, "item", [1, 2], [{"genres": ["a"]}, {"genres": ["b"]}], replace=True)
    store.write_entities(dbn, "user", [7], [{}], replace=True)
    ratings(store, dbn, [(7, 1, 5.0, 1.0), (8, 3, 6.0, 2.0)])
    store.insert_interactions(dbn, "user", events([7], [2], ["view"], [3.0], [{"n": 1}]))
    store.insert_interactions(dbn, "session", events(["s1"], [1], ["view"], [4.0]))
    store.resolve_session(dbn, "s1", 0, 5.0)
    store.save_task(TaskRecord(f"task-{dbn}", dbn, "ml_model_retrain", 6.0, "COMPLETED"))
    store.save_model(dbn, f"model-{dbn}-{uuid.uuid4().hex}", "ALS", "/models/m", 7.0)
    store.save_scenario(dbn, "item_to_items", "s", {"scenario_type": "case"})
    store.set_default_scenario(dbn, "item_to_items", "s")


def snapshot(store: Store, dbn: int) -> dict[str, Any]:
    """Everything a database holds, in comparable form."""
    return {
        "counters": store.counters(dbn),
        "properties": store.list_properties(dbn, "item") + store.list_properties(dbn, "user"),
        "items": list(store.vocab(dbn, "item").keys),
        "users": list(store.vocab(dbn, "user").keys),
        "item_props": store.all_entity_props(dbn, "item"),
        "user_props": store.all_entity_props(dbn, "user"),
        "ratings": rating_rows(store.all_ratings(dbn)),
        "user_events": event_rows(store.all_interactions(dbn, "user")),
        "session_events": event_rows(store.all_interactions(dbn, "session")),
        "sessions": store.page_resolved_sessions(dbn, None, 0, 100),
        "tasks": store.list_tasks(dbn, "ml_model_retrain", 0, 100),
        "models": [m[1:] for m in store.list_models(dbn)],
        "scenarios": store.list_scenarios(dbn),
        "default": store.get_default_scenario(dbn, "item_to_items"),
    }
