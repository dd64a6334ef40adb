from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server import ROOT_EMAIL, ROOT_PASSWORD, ServerProcess, drop_test_schemas  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _test_store_schemas() -> Iterator[None]:
    """With RECOAPI_TEST_STORE_URL, drop the PostgreSQL schemas of this run's servers."""
    yield
    drop_test_schemas()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for the session; tests isolate themselves with their own database."""
    proc = ServerProcess(tmp_path_factory.mktemp("server")).start()
    yield proc
    proc.stop()


@pytest.fixture(params=["pkl", "json"])
def serializer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def xclient(server: ServerProcess, serializer: str):  # type: ignore[no-untyped-def]
    """The reference client logged in to a fresh database (uint32 ids)."""
    from xminds.api.client import CrossingMindsApiClient

    client = CrossingMindsApiClient(serializer=serializer, host=server.url)
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db = client.create_database(f"test-{uuid.uuid4().hex[:10]}", "test", "uint32", "uint32")
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db["id"])
    return client
