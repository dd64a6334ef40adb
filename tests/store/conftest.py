from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storekit import Place, make_place, new_db

from recoapi.store.base import DatabaseRecord, Store

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """A fresh, empty place for a store of each backend, removed after the test."""
    where = make_place(str(request.param), tmp_path)
    yield where
    where.drop()


@pytest.fixture
def store(place: Place) -> Iterator[Store]:
    opened = place.open()
    yield opened
    opened.close()


@pytest.fixture
def db(store: Store) -> DatabaseRecord:
    return new_db(store)
