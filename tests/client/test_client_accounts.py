"""Logins, token refresh, accounts, the organization and databases, against the real server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from clientkit import connect

from recoapi.client import (
    AUTO_FRONTEND_ID,
    AuthError,
    ForbiddenError,
    JwtTokenExpired,
    NotFoundError,
    RecoClient,
    RefreshTokenExpired,
)
from recoapi.demo.embedded import EmbeddedServer
from server import ROOT_EMAIL, ROOT_PASSWORD, ServerProcess


@pytest.fixture(scope="module")
def short_tokens() -> Iterator[EmbeddedServer]:
    """A server whose access tokens live one second."""
    with EmbeddedServer(access_token_seconds=1) as server:
        yield server


def test_login_without_then_with_database(server: ServerProcess) -> None:
    with RecoClient(server.url, progress=False) as client:
        answer = client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
        assert {"token", "refresh_token", "org_id"} <= set(answer) and "database" not in answer
        assert client.database is None
        db = client.create_database(f"acc-{uuid.uuid4().hex[:8]}", "d", "uint32", "uuid")
        answer = client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db["id"])
        assert answer["database"]["id"] == db["id"]
        assert client.database is not None and client.database["user_id_type"] == "uuid"
        jwt = client.login_jwt()
        assert jwt["account"]["role"] == "root" and jwt["database"]["id"] == db["id"]
        assert client.status() == {"status": "pending"}


def test_login_by_database_name_and_root_login(server: ServerProcess) -> None:
    client = connect(server.url)
    name = client.get_database()["name"]
    fresh = RecoClient(server.url, progress=False)
    assert (
        fresh.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_name=name)["database"]["name"] == name
    )
    root = fresh.login_root(ROOT_EMAIL, ROOT_PASSWORD)
    assert root["token"] and fresh.database is None and fresh.refresh_token is None


def test_wrong_password_is_an_auth_error(server: ServerProcess) -> None:
    with pytest.raises(AuthError) as info:
        RecoClient(server.url, progress=False).login_individual(ROOT_EMAIL, "not the password")
    assert info.value.status_code == 401 and info.value.CODE == 21


def test_explicit_refresh_rotates_and_keeps_the_database(server: ServerProcess) -> None:
    client = connect(server.url)
    db_id, old = client.database["id"], client.refresh_token  # type: ignore[index]
    answer = client.login_refresh_token()
    assert answer["database"]["id"] == db_id and client.refresh_token != old
    with pytest.raises(RefreshTokenExpired):  # refresh tokens are single use
        client.login_refresh_token(old)


def test_set_jwt_token_learns_the_database_on_first_use(server: ServerProcess) -> None:
    client = connect(server.url)
    client.create_item_property("year", "int16")
    other = RecoClient(server.url, progress=False)
    other.set_jwt_token(client.jwt_token or "")
    assert other.database is None
    other.create_or_update_rating(7, 8, 9.0)  # needs the id types: asks login/jwt/
    learned, bound = other.database, client.database
    assert learned is not None and bound is not None and learned["id"] == bound["id"]


def test_expired_token_is_refreshed_and_the_call_repeated(short_tokens: EmbeddedServer) -> None:
    client = connect(short_tokens.url, email=short_tokens.email, password=short_tokens.password)
    first = client.jwt_token
    time.sleep(2.1)
    assert client.status()["status"] == "pending"
    assert client.jwt_token != first


def test_expired_token_without_auto_refresh_raises(short_tokens: EmbeddedServer) -> None:
    client = connect(
        short_tokens.url,
        email=short_tokens.email,
        password=short_tokens.password,
        auto_refresh_token=False,
    )
    time.sleep(2.1)
    with pytest.raises(JwtTokenExpired) as info:
        client.status()
    assert isinstance(info.value, AuthError) and info.value.CODE == 22


def test_expired_token_with_a_dead_refresh_token(short_tokens: EmbeddedServer) -> None:
    client = connect(short_tokens.url, email=short_tokens.email, password=short_tokens.password)
    spare = RecoClient(short_tokens.url, progress=False)
    spare.login_refresh_token(client.refresh_token)  # uses up the client's refresh token
    time.sleep(2.1)
    with pytest.raises(RefreshTokenExpired):
        client.status()


def test_individual_accounts(server: ServerProcess) -> None:
    client = connect(server.url)
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    assert client.create_individual_account(
        email, "a long password", first_name="Ada", role="backend"
    )["id"]
    listed = client.list_accounts()["individual_accounts"]
    assert any(a["email"] == email and a["first_name"] == "Ada" for a in listed)
    client.partial_update_individual_account(email, password="another long password", last_name="L")
    backend = RecoClient(server.url, progress=False)
    answer = backend.login_individual(email, "another long password", db_id=client.database["id"])  # type: ignore[index]
    assert answer["role"] == "backend"
    with pytest.raises(ForbiddenError):  # backend accounts may not create databases
        backend.create_database(f"nope-{uuid.uuid4().hex[:6]}", "d", "uint32", "uint32")
    client.delete_individual_account(email)
    with pytest.raises(AuthError):
        backend.login_individual(email, "another long password")


def test_service_accounts_and_frontend_tokens(server: ServerProcess) -> None:
    client = connect(server.url)
    name = f"web-{uuid.uuid4().hex[:6]}"
    client.create_service_account(name, role="frontend")
    key = client.create_service_account_key(name, metadata={"purpose": "test"})
    assert {"id", "key"} <= set(key)
    client.create_or_update_rating(5, 6, 7.0)
    front = RecoClient(server.url, progress=False)
    front.login_service(name, key["key"], db_id=client.database["id"], frontend_user_id=5)  # type: ignore[index]
    assert front.login_jwt()["account"]["role"] == "frontend"
    front.create_or_update_rating(AUTO_FRONTEND_ID, 9, 8.0)  # ~me
    ratings = front.list_user_ratings(AUTO_FRONTEND_ID)["user_ratings"]
    assert sorted(ratings["item_id"].tolist()) == [6, 9]
    with pytest.raises(ForbiddenError):
        front.create_or_update_ratings_bulk([{"user_id": 1, "item_id": 2, "rating": 3.0}])
    client.delete_service_account_key(key["id"])
    with pytest.raises(AuthError):
        RecoClient(server.url, progress=False).login_service(name, key["key"])
    client.delete_service_account(name)


def test_organization_metadata(server: ServerProcess) -> None:
    client = connect(server.url)
    client.create_or_partial_update_organization({"team": {"size": 3}})
    preview = client.partial_update_organization_preview({"team": {"size": 4}})
    assert preview["metadata_new"]["team"]["size"] == 4
    assert client.get_organization()["metadata"]["team"]["size"] == 3


def test_databases(server: ServerProcess) -> None:
    client = connect(server.url, id_types=("uint32", "uint32", "uuid"))
    db = client.get_database()
    assert db["item_id_type"] == "uint32" and db["session_id_type"] == "uuid"
    assert "counters" in db
    client.partial_update_database(description="new words", metadata={"k": 1})
    assert (
        client.partial_update_database_preview(metadata={"k": 2})["metadata_new"]["metadata"]["k"]
        == 2
    )
    db = client.get_database()
    assert db["description"] == "new words" and db["metadata"] == {"k": 1}
    listed = client.get_all_databases(amt=64)
    assert "databases" in listed and "has_next" in listed
    client.delete_database()
    with pytest.raises(NotFoundError):
        client.get_database()
