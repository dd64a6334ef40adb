"""What only the PostgreSQL store has: schemas in one database, and a server that may drop
every connection (a restart) while the store keeps its pool."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from storekit import POSTGRES_URL, drop_schema, new_db, postgres_unavailable, ratings, with_schema

from recoapi.config import Settings
from recoapi.store import open_store
from recoapi.store.base import Store

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.postgres


@pytest.fixture
def schemas() -> Iterator[list[str]]:
    """Two fresh schema names, dropped afterwards."""
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    names = [f"recoapi_store_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    yield names
    for name in names:
        drop_schema(name)


def open_schema(schema: str, query: str = "") -> Store:
    url = with_schema(POSTGRES_URL, schema) + query
    return open_store(Settings(data_dir=Path("/nonexistent"), secret_key="x", store_url=url))


def test_schemas_keep_stores_apart(schemas: list[str]) -> None:
    one, two = open_schema(schemas[0]), open_schema(schemas[1])
    db = new_db(one)
    assert one.get_database(db.id) == db and two.get_database(db.id) is None
    assert two.list_databases(db.org_id, 0, 10) == []
    one.close()
    two.close()
    again = open_schema(schemas[0])  # the tables are there: nothing to migrate
    assert again.get_database(db.id) == db
    again.close()
    with psycopg.connect(POSTGRES_URL) as conn:
        versions = conn.execute(f'SELECT version FROM "{schemas[0]}".schema_version').fetchall()
    assert versions == [(1,)]


def test_lost_connections_are_replaced(schemas: list[str]) -> None:
    name = schemas[0]  # also the application_name of its connections, to find them
    store = open_schema(name, f"&application_name={name}")
    db = new_db(store)

    def drop_connections() -> int:  # as a restart of PostgreSQL does
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            return len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (name,),
                ).fetchall()
            )

    assert drop_connections() >= 1
    ratings(store, db.n, [(1, 2, 5.0, 1.0)])  # a write begins again on a fresh connection
    assert drop_connections() >= 1
    assert store.get_database(db.id) == db  # a read is tried again
    assert store.counters(db.n)["rating"] == 1
    store.close()
