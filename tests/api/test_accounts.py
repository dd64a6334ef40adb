"""Logins, tokens, accounts, service keys and roles through the reference client (§4, §9.1)."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from apikit import SERIALIZERS, call, expect_error, root, token_of, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import AUTO_FRONTEND_ID, CrossingMindsApiClient

from server import ROOT_EMAIL, ROOT_PASSWORD, ServerProcess, store_env, store_rows

NO_ROOT_ENV = {"RECOAPI_ROOT_EMAIL": "", "RECOAPI_ROOT_PASSWORD": ""}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> CrossingMindsApiClient:
    """Root, bound to a database shared by this module's tests."""
    return root(server.url).database("json")


def service(admin: CrossingMindsApiClient, role: str, **options: Any) -> tuple[str, str]:
    """A new service account with one key: (name, key). Key logins skip the slow password hash."""
    name = unique(f"svc-{role}")
    admin.create_service_account(name, role=role)
    return name, admin.create_service_account_key(name, **options)["key"]


def login_service(
    url: str, serializer: str, name: str, key: str, **options: Any
) -> CrossingMindsApiClient:
    client = CrossingMindsApiClient(serializer=serializer, host=url)
    client.login_service(name, key, **options)
    return client


# --- logins --------------------------------------------------------------------------------


def test_individual_login_with_and_without_database(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    db = admin.get_database()
    client = CrossingMindsApiClient(serializer="pkl", host=server.url)
    org = client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    assert org["token"] and org["refresh_token"] and org["role"] == "root" and "database" not in org
    assert client.login_jwt()["account"]["role"] == "root"
    bound = client.login_refresh_token(db_name=db["name"])
    assert bound["database"]["id"] == db["id"]
    assert set(bound["database"]) >= {
        "id",
        "name",
        "description",
        "item_id_type",
        "user_id_type",
        "session_id_type",
    }
    described = client.login_jwt()
    assert described["org_id"] == org["org_id"] and described["database"]["id"] == db["id"]


def test_root_login_is_organization_level_without_refresh(server: ServerProcess) -> None:
    client = CrossingMindsApiClient(serializer="json", host=server.url)
    answer = client.login_root(ROOT_EMAIL, ROOT_PASSWORD)
    assert answer["token"] and answer["org_id"]
    assert "database" not in client.login_jwt()
    with xminds_error(xerr.ForbiddenError):  # no database selected
        client.api.get("databases/current/")


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_wrong_credentials_are_code_21(server: ServerProcess, serializer: str) -> None:
    client = CrossingMindsApiClient(serializer=serializer, host=server.url)
    with xminds_error(xerr.AuthError):
        client.login_individual(ROOT_EMAIL, "not the password")
    with xminds_error(xerr.AuthError):
        client.login_individual("nobody@example.com", ROOT_PASSWORD)
    with xminds_error(xerr.AuthError):
        client.login_root(ROOT_EMAIL, "not the password")
    with xminds_error(xerr.AuthError):
        client.login_service("no-such-service", "key")
    body = expect_error(
        call(
            server.url,
            "POST",
            "login/individual/",
            fmt=serializer,
            body={"email": ROOT_EMAIL, "password": "nope"},
        ),
        401,
        21,
    )
    assert body["error_data"]["error"]


def test_unknown_emails_cost_as_much_as_wrong_passwords(server: ServerProcess) -> None:
    def seconds(email: str) -> float:
        start = time.perf_counter()
        resp = call(server.url, "POST", "login/individual/", body={"email": email, "password": "x"})
        assert resp.status_code == 401
        return time.perf_counter() - start

    seconds("warm-up@example.com")
    unknown = min(seconds(f"{unique('nobody')}@example.com") for _ in range(2))
    known = min(seconds(ROOT_EMAIL) for _ in range(2))
    assert unknown > 0.3 * known  # without a decoy hash, about 1/100


def test_login_ignores_a_stale_authorization_header(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    name, key = service(admin, "backend")
    resp = call(
        server.url, "POST", "login/service/", "not.a.jwt", body={"name": name, "password": key}
    )
    assert resp.status_code == 200 and resp.json()["token"]


def test_missing_or_garbage_token_is_code_21(server: ServerProcess) -> None:
    expect_error(call(server.url, "GET", "databases/current/"), 401, 21)
    expect_error(call(server.url, "GET", "databases/current/", "garbage"), 401, 21)
    expect_error(
        call(server.url, "GET", "databases/current/", headers={"Authorization": "Basic abc"}),
        401,
        21,
    )


def test_token_signed_with_another_secret_is_refused(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    claims = jwt.decode(token_of(admin), options={"verify_signature": False})
    forged = jwt.encode(claims, "another server secret, long enough for HS256", algorithm="HS256")
    expect_error(call(server.url, "GET", "databases/current/", forged), 401, 21)
    unsigned = jwt.encode(claims, None, algorithm="none")
    expect_error(call(server.url, "GET", "databases/current/", unsigned), 401, 21)


# --- refresh tokens ------------------------------------------------------------------------


def test_refresh_token_is_single_use_and_keeps_its_database(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    db_id = admin.get_database()["id"]
    name, key = service(admin, "backend")
    client = login_service(server.url, "json", name, key, db_id=db_id)
    first = client._refresh_token
    rotated = client.login_refresh_token()
    assert rotated["refresh_token"] != first and rotated["database"]["id"] == db_id
    assert client.login_jwt()["database"]["id"] == db_id
    body = expect_error(
        call(server.url, "POST", "login/refresh-token/", body={"refresh_token": first}), 401, 28
    )
    assert body["error_name"] == "REFRESH_TOKEN_EXPIRED"
    with xminds_error(xerr.RefreshTokenExpired):
        CrossingMindsApiClient(serializer="pkl", host=server.url).login_refresh_token(first)
    again = client.login_refresh_token()  # the rotated one still works, once
    assert again["database"]["id"] == db_id


def test_refresh_token_of_a_deleted_database_expires(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    doomed = root(server.url).database("json")
    name, key = service(admin, "backend")
    db_id = doomed.get_database()["id"]
    refresh = login_service(server.url, "json", name, key, db_id=db_id)._refresh_token
    doomed.delete_database()
    body = expect_error(
        call(server.url, "POST", "login/refresh-token/", body={"refresh_token": refresh}), 401, 28
    )
    assert "database" in body["message"]


def test_refresh_token_of_an_organization_login_has_no_database(server: ServerProcess) -> None:
    client = root(server.url).org()
    other = CrossingMindsApiClient(serializer="json", host=server.url)
    fresh = other.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    assert "database" not in other.login_refresh_token(fresh["refresh_token"])
    assert client.login_jwt()["org_id"] == fresh["org_id"]


# --- service accounts and keys -------------------------------------------------------------


def test_service_account_logs_in_with_key_or_password(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    db_id = admin.get_database()["id"]
    name = unique("svc-pw")
    admin.create_service_account(name, password="a service password", role="backend")
    key = admin.create_service_account_key(name, metadata={"purpose": "ci"})
    assert key["key"] and key["id"] and key["metadata"] == {"purpose": "ci"}
    by_key = login_service(server.url, "pkl", name, key["key"], db_id=db_id)
    assert by_key.login_jwt()["account"]["role"] == "backend"
    assert login_service(server.url, "json", name, "a service password").login_jwt()["org_id"]
    listed = {a["name"]: a for a in admin.list_accounts()["service_accounts"]}
    assert [k["id"] for k in listed[name]["keys"]] == [key["id"]]
    admin.delete_service_account_key(key["id"])
    with xminds_error(xerr.AuthError):
        login_service(server.url, "json", name, key["key"])
    with xminds_error(xerr.NotFoundError):
        admin.delete_service_account_key(key["id"])
    admin.delete_service_account(name)
    with xminds_error(xerr.AuthError):
        login_service(server.url, "json", name, "a service password")


def test_expired_service_key_is_refused(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    name, key = service(admin, "backend", expiration_timestamp=time.time() + 1.0)
    assert login_service(server.url, "json", name, key).jwt_token
    time.sleep(1.2)
    with xminds_error(xerr.AuthError) as info:
        login_service(server.url, "json", name, key)
    assert "expired" in info.value.data["error"]
    listed = {a["name"]: a for a in admin.list_accounts()["service_accounts"]}
    assert listed[name]["keys"][0]["is_expired"] is True


def test_duplicate_accounts_are_code_42(admin: CrossingMindsApiClient) -> None:
    name, _ = service(admin, "backend")
    with xminds_error(xerr.DuplicatedError):
        admin.create_service_account(name)
    with xminds_error(xerr.DuplicatedError):
        admin.create_individual_account(ROOT_EMAIL, password="whatever12")
    with xminds_error(xerr.WrongData):
        admin.create_service_account(unique("svc"), role="root")


# --- roles ---------------------------------------------------------------------------------


def test_backend_works_in_its_database_but_cannot_administer(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    db_id = admin.get_database()["id"]
    name, key = service(admin, "backend")
    backend = login_service(server.url, "pkl", name, key, db_id=db_id)
    backend.create_or_update_rating(1, 1, 5.0)
    assert backend.get_database()["id"] == db_id
    assert backend.get_all_databases(amt=1)["databases"]
    for attempt in (
        lambda: backend.create_database(unique("db"), "d", "uint32", "uint32"),
        lambda: backend.create_individual_account(
            f"{unique('x')}@example.com", password="secret123"
        ),
        lambda: backend.create_service_account(unique("svc")),
        lambda: backend.create_service_account_key(name),
        lambda: backend.list_accounts(),
        lambda: backend.partial_update_individual_account(ROOT_EMAIL, password="taken over"),
        lambda: backend.delete_individual_account(ROOT_EMAIL),
        lambda: backend.delete_database(),
    ):
        with xminds_error(xerr.ForbiddenError):
            attempt()


def test_manager_creates_accounts_and_databases(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    name, key = service(admin, "manager")
    manager = login_service(server.url, "json", name, key)
    db = manager.create_database(unique("mgr"), "by a manager", "uint64", "uuid")
    email = f"{unique('backend')}@example.com"
    assert manager.create_individual_account(email, password="secret123", role="backend")["id"]
    assert email in [a["email"] for a in manager.list_accounts()["individual_accounts"]]
    manager.delete_individual_account(email)
    with xminds_error(xerr.ForbiddenError):  # a manager cannot take the root account over
        manager.partial_update_individual_account(ROOT_EMAIL, password="taken over")
    manager.login_refresh_token(db_id=db["id"])
    manager.delete_database()


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_frontend_reaches_only_its_own_user(
    server: ServerProcess, admin: CrossingMindsApiClient, serializer: str
) -> None:
    db_id = admin.get_database()["id"]
    admin.create_or_update_rating(9, 1, 3.0)
    name, key = service(admin, "frontend")
    with xminds_error(xerr.WrongData):  # a frontend token must be bound to a user or a session
        login_service(server.url, serializer, name, key, db_id=db_id)
    front = login_service(server.url, serializer, name, key, db_id=db_id, frontend_user_id=7)
    assert front.login_jwt()["frontend_user_id"] in (7, "7")
    front.create_or_update_rating(AUTO_FRONTEND_ID, 2, 8.0)
    front.create_interaction(AUTO_FRONTEND_ID, 2, "like")
    mine = front.list_user_ratings(AUTO_FRONTEND_ID)["user_ratings"]
    assert [int(r["item_id"]) for r in mine] == [2]
    assert len(front.list_user_ratings(7)["user_ratings"]) == 1  # its own id, spelled out
    forbidden = (
        lambda: front.create_or_update_rating(9, 2, 8.0),
        lambda: front.list_user_ratings(9),
        lambda: front.delete_user_ratings(9),
        lambda: front.create_interaction(9, 2, "like"),
        lambda: front.create_item_property(unique("p").replace("-", "_"), "int8"),
        lambda: front.get_database(),
        lambda: front.list_ratings(),
        lambda: front.create_or_update_ratings_bulk([{"user_id": 7, "item_id": 3, "rating": 5.0}]),
        lambda: front.list_items_paginated(),
        lambda: front.create_database(unique("db"), "d", "uint32", "uint32"),
        lambda: front.list_accounts(),
    )
    for attempt in forbidden:
        with xminds_error(xerr.ForbiddenError):
            attempt()
    assert [int(r["item_id"]) for r in admin.list_user_ratings(9)["user_ratings"]] == [1]


def test_frontend_session_login_resolves_and_uses_me(
    server: ServerProcess, admin: CrossingMindsApiClient
) -> None:
    db_id = admin.get_database()["id"]
    name, key = service(admin, "frontend")
    session = str(uuid.uuid4())
    front = login_service(
        server.url, "pkl", name, key, db_id=db_id, frontend_user_id=11, frontend_session_id=session
    )
    resolved = admin.list_resolved_sessions_by_users([11])["resolved_sessions"]
    assert [r["session_id"] for r in resolved] == [session]
    front.create_session_interaction(AUTO_FRONTEND_ID, 3, "view", timestamp=1.6e9)
    listed = front.list_session_interactions(AUTO_FRONTEND_ID)["interactions"]
    assert [int(r["item_id"]) for r in listed] == [3]
    with xminds_error(xerr.ForbiddenError):
        front.create_session_interaction(str(uuid.uuid4()), 3, "view")
    only_session = login_service(
        server.url, "json", name, key, db_id=db_id, frontend_session_id=session
    )
    with xminds_error(xerr.WrongData):  # no user bound to this token: '~me' means nothing
        only_session.create_or_update_rating(AUTO_FRONTEND_ID, 2, 8.0)


# --- expiry and automatic refresh ------------------------------------------------------------


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose access tokens live one second (RECOAPI_ACCESS_TOKEN_SECONDS)."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("short-tokens"),
        debounce=3600,
        extra_env={"RECOAPI_ACCESS_TOKEN_SECONDS": "1"},
    ).start()
    yield proc
    proc.stop()


def test_expired_token_is_code_22_and_the_client_refreshes(
    short_tokens: ServerProcess, server: ServerProcess
) -> None:
    url = short_tokens.url
    first = CrossingMindsApiClient(serializer="json", host=url)
    first.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db_id = first.create_database(unique("short"), "d", "uint32", "uint32")["id"]
    client = CrossingMindsApiClient(serializer="json", host=url)
    client.login_refresh_token(first._refresh_token, db_id=db_id)
    no_refresh = CrossingMindsApiClient(serializer="pkl", host=url)
    no_refresh.login_root(ROOT_EMAIL, ROOT_PASSWORD)
    stale = token_of(client)
    time.sleep(2.2)
    body = expect_error(call(url, "GET", "databases/current/", stale), 401, 22, "JWT_TOKEN_EXPIRED")
    assert body["error_data"]["name"] == "JWT_TOKEN_EXPIRED"
    expect_error(call(url, "GET", "databases/current/", stale, fmt="pkl"), 401, 22)
    assert client.get_database()["id"] == db_id  # refreshed by itself, same database
    assert token_of(client) != stale
    with xminds_error(xerr.JwtTokenExpired):  # login_root keeps no refresh token: no retry
        no_refresh.login_jwt()
    fresh = CrossingMindsApiClient(serializer="json", host=server.url)
    fresh.set_jwt_token(token_of(root(server.url).org()))  # valid, but for another server
    expect_error(call(url, "GET", "databases/", fresh.jwt_token), 401, 21)


def test_reference_client_refreshes_after_expiry(short_tokens: ServerProcess) -> None:
    first = CrossingMindsApiClient(serializer="json", host=short_tokens.url)
    first.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db_ids = [
        first.create_database(unique("short"), "d", "uint32", "uint32")["id"] for _ in SERIALIZERS
    ]
    clients = {}
    for serializer, db_id in zip(SERIALIZERS, db_ids, strict=True):
        clients[serializer] = client = CrossingMindsApiClient(
            serializer=serializer, host=short_tokens.url
        )
        if serializer == "pkl":
            client.login_refresh_token(first._refresh_token, db_id=db_id)
        else:
            client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db_id)
        client.create_item_property("year", "int16")
    time.sleep(2.2)
    for client in clients.values():
        client.create_or_replace_item({"item_id": 1, "year": 1999})  # 22, refresh, retry
    time.sleep(2.2)
    for client in clients.values():
        assert client.get_item(1)["item"]["year"] == 1999
        assert client.login_jwt()["database"]["id"] == client.get_database()["id"]


# --- secret key, offline root creation, root reset -----------------------------------------------


def test_secret_key_file_is_private(server: ServerProcess) -> None:
    mode = stat.S_IMODE(os.stat(server.data_dir / "secret_key").st_mode)
    assert mode == 0o600


def test_secrets_are_stored_hashed(server: ServerProcess, admin: CrossingMindsApiClient) -> None:
    name, key = service(admin, "backend")
    refresh = login_service(server.url, "json", name, key)._refresh_token
    rows = store_rows(
        server.data_dir, "SELECT password_hash FROM accounts WHERE email = ?", (ROOT_EMAIL,)
    )
    hashes = [h for (h,) in rows]
    tokens = {t for (t,) in store_rows(server.data_dir, "SELECT token_hash FROM refresh_tokens")}
    keys = {k for (k,) in store_rows(server.data_dir, "SELECT key_hash FROM service_keys")}
    assert hashes[0].startswith("$argon2") and ROOT_PASSWORD not in hashes[0]
    assert refresh not in tokens and hashlib.sha256(refresh.encode()).hexdigest() in tokens
    assert key not in keys and hashlib.sha256(key.encode()).hexdigest() in keys
    if not store_env(server.data_dir):  # the SQLite file itself, its WAL too
        dump = b"".join(f.read_bytes() for f in server.data_dir.glob("recoapi.sqlite3*"))
        assert ROOT_PASSWORD.encode() not in dump and refresh.encode() not in dump


def create_root(data_dir: Path, email: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOAPI_ROOT_")}
    env.update(store_env(data_dir))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "recoapi",
            "accounts",
            "create-root",
            "--email",
            email,
            "--password",
            password,
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_offline_root_then_env_password_reset(tmp_path: Path) -> None:
    email = "Owner@Example.org"
    done = create_root(tmp_path, email, "first password")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert create_root(tmp_path, email, "short").returncode == 1  # refused: under 8 characters
    proc = ServerProcess(tmp_path, extra_env=NO_ROOT_ENV).start()
    try:
        client = CrossingMindsApiClient(serializer="json", host=proc.url)
        assert client.login_individual("owner@example.org", "first password")["role"] == "root"
        with xminds_error(xerr.AuthError):  # the test suite's default root does not exist here
            client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    finally:
        proc.stop()
    proc = ServerProcess(
        tmp_path,
        extra_env={"RECOAPI_ROOT_EMAIL": email, "RECOAPI_ROOT_PASSWORD": "second password"},
    ).start()
    try:
        client = CrossingMindsApiClient(serializer="pkl", host=proc.url)
        with xminds_error(xerr.AuthError):
            client.login_individual(email, "first password")
        org = client.login_individual(email, "second password")
        assert org["role"] == "root" and client.get_all_databases()["databases"] == []
    finally:
        proc.stop()
