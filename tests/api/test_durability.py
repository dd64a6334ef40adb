"""Acknowledged writes survive a SIGKILL; databases and organizations stay apart (issue #2)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import numpy as np
import pytest
from apikit import Root, call, expect_error, root, rows, token_of, wire, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ServerProcess, store_env

OTHER_EMAIL, OTHER_PASSWORD = "owner@other.example", "another long password"
RATINGS = [("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")]


@pytest.fixture(scope="module")
def proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private server with two organizations: the suite's root, and one made offline."""
    data_dir = tmp_path_factory.mktemp("two-orgs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOAPI_ROOT_")}
    env.update(store_env(data_dir))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "recoapi",
            "accounts",
            "create-root",
            "--email",
            OTHER_EMAIL,
            "--password",
            OTHER_PASSWORD,
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = ServerProcess(data_dir, debounce=3600).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other(proc: ServerProcess) -> Root:
    return Root(proc.url, OTHER_EMAIL, OTHER_PASSWORD)


def all_ratings(client: CrossingMindsApiClient) -> set[tuple[int, int, float]]:
    found, cursor = set(), None
    while True:
        page = client.list_ratings(amt=16384, cursor=cursor)
        found |= {
            (int(r["user_id"]), int(r["item_id"]), float(r["rating"]))
            for r in rows(page["ratings"])
        }
        if not page["has_next"]:
            return found
        cursor = page["next_cursor"]


def hammer(url: str, token: str, acked: list[int], stop: threading.Event) -> None:
    """Write ratings one request at a time, noting each acknowledged one, until the server dies."""
    with httpx.Client(timeout=5) as http:
        for n in range(1, 10**6):
            if stop.is_set():
                return
            try:
                if n % 2:
                    resp = call(
                        url, "PUT", f"users/1/ratings/{n}/", token, body={"rating": 5.0}, http=http
                    )
                else:
                    body = {
                        "ratings": [
                            {"user_id": 2, "item_id": n, "rating": 6.0},
                            {"user_id": 3, "item_id": n, "rating": 7.0},
                        ]
                    }
                    resp = call(url, "PUT", "ratings-bulk/", token, body=body, http=http)
            except httpx.HTTPError:
                return
            if resp.status_code != 204:
                return
            acked.append(n)


def test_acknowledged_writes_survive_sigkill(proc: ServerProcess) -> None:
    admin = root(proc.url)
    catalog = admin.database("pkl", item="uint64", user="uuid")
    catalog.create_item_property("genres", "unicode8", repeated=True)
    items = np.array([(2**64 - 1,), (7,)], dtype=[("item_id", "<u8")])
    tags = np.array([(0, "a"), (0, "b")], dtype=[("item_index", "<u4"), ("value_id", "<U8")])
    catalog.create_or_replace_items_bulk(items, [{"name": "genres", "array": tags}])
    user = str(uuid.uuid4())
    catalog.create_or_update_rating(user, 7, 8.0, timestamp=1.6e9)
    catalog.create_interaction(user, 2**64 - 1, "like", timestamp=1.6e9)
    catalog.resolve_session(user, str(uuid.UUID(int=5)))
    catalog.partial_update_database(metadata={"after": "crash"})
    admin.org().create_service_account("survivor", role="backend")
    key = admin.org().create_service_account_key("survivor")["key"]
    writes = admin.database("json")
    acked: list[int] = []
    stop = threading.Event()
    worker = threading.Thread(target=hammer, args=(proc.url, token_of(writes), acked, stop))
    worker.start()
    time.sleep(1.5)
    proc.stop(kill=True)
    worker.join(timeout=30)
    stop.set()
    assert len(acked) > 20, "the writer did not get going"
    print(f"{len(acked)} writes acknowledged before the kill")
    proc.start()

    assert catalog.get_item(2**64 - 1)["item"]["genres"] == [
        "a",
        "b",
    ]  # tokens survive too: same secret
    assert catalog.list_user_ratings(user)["user_ratings"][0]["item_id"] == 7
    assert rows(catalog.list_interactions()["interactions"])[0]["item_id"] == 2**64 - 1
    assert catalog.list_resolved_sessions_by_users([user])["resolved_sessions"][0][
        "session_id"
    ] == str(uuid.UUID(int=5))
    assert catalog.get_database()["metadata"] == {"after": "crash"}
    assert CrossingMindsApiClient(serializer="json", host=proc.url).login_service("survivor", key)[
        "token"
    ]
    stored = all_ratings(writes)
    expected = {(1, n, 5.0) if n % 2 else (2, n, 6.0) for n in acked} | {
        (3, n, 7.0) for n in acked if n % 2 == 0
    }
    missing = expected - stored
    assert not missing, f"{len(missing)} acknowledged ratings lost, e.g. {sorted(missing)[:5]}"
    assert len(stored - expected) <= 2  # at most the one request in flight at the kill
    writes.create_or_update_rating(1, 10**6, 9.0)  # and the store takes new writes
    assert (1, 10**6, 9.0) in all_ratings(writes)


def test_one_database_token_cannot_touch_another(proc: ServerProcess) -> None:
    first, second = root(proc.url).database("pkl"), root(proc.url).database("json")
    first.create_item_property("year", "int16")
    first.create_or_replace_item({"item_id": 1, "year": 2001})
    first.create_or_update_ratings_bulk(wire(np.array([(1, 1, 5.0, 1e9)], dtype=RATINGS), "pkl"))
    first.create_interaction(1, 1, "like", timestamp=1e9)
    with xminds_error(xerr.NotFoundError):
        second.get_item(1)
    with xminds_error(xerr.NotFoundError):
        second.get_item_property("year")
    assert (
        len(second.list_ratings()["ratings"]) == 0
        and len(second.list_interactions()["interactions"]) == 0
    )
    with xminds_error(xerr.NotFoundError):
        second.delete_rating(1, 1)
    second.create_item_property("year", "int16")
    second.create_or_replace_item({"item_id": 1, "year": 1999})
    second.create_or_update_rating(1, 1, 9.0)
    second.delete_user_all(1)
    assert first.get_item(1)["item"]["year"] == 2001
    assert [float(r["rating"]) for r in rows(first.list_ratings()["ratings"])] == [5.0]
    assert len(first.list_user_interactions(1)["interactions"]) == 1
    assert first.get_database()["id"] != second.get_database()["id"]
    second.delete_database()
    assert first.get_item(1)["item"]["year"] == 2001


def test_organizations_are_isolated(proc: ServerProcess, other: Root) -> None:
    ours = root(proc.url).database("json")
    ours.create_or_update_rating(1, 1, 5.0)
    ours_db = ours.get_database()
    theirs = other.org("pkl")
    assert ours_db["id"] not in {d["id"] for d in theirs.get_all_databases()["databases"]}
    same_name = theirs.create_database(ours_db["name"], "same name, other org", "uint32", "uint32")
    assert same_name["id"] != ours_db["id"]
    with xminds_error(xerr.NotFoundError):
        CrossingMindsApiClient(serializer="json", host=proc.url).login_individual(
            OTHER_EMAIL, OTHER_PASSWORD, db_id=ours_db["id"]
        )
    with xminds_error(xerr.NotFoundError):
        other.client("pkl", ours_db["id"])
    assert other.client("json", same_name["id"]).list_ratings()["ratings"] == []
    by_name = CrossingMindsApiClient(serializer="json", host=proc.url)
    assert (
        by_name.login_individual(OTHER_EMAIL, OTHER_PASSWORD, db_name=ours_db["name"])["database"][
            "id"
        ]
        == same_name["id"]
    )  # a name is looked up in the caller's own organization

    root(proc.url).org().create_service_account("ours-svc", role="backend")
    key = root(proc.url).org().create_service_account_key("ours-svc")
    with xminds_error(xerr.NotFoundError):
        CrossingMindsApiClient(serializer="json", host=proc.url).login_service(
            "ours-svc", key["key"], db_id=same_name["id"]
        )
    for attempt in (
        lambda: theirs.delete_service_account("ours-svc"),
        lambda: theirs.delete_service_account_key(key["id"]),
        lambda: theirs.create_service_account_key("ours-svc"),
        lambda: theirs.delete_individual_account("root@example.com"),
    ):
        with xminds_error(xerr.NotFoundError):
            attempt()
    assert "ours-svc" not in {a["name"] for a in theirs.list_accounts()["service_accounts"]}

    secret = (proc.data_dir / "secret_key").read_text().strip()
    claims = jwt.decode(token_of(theirs), options={"verify_signature": False}) | {
        "db": ours_db["id"]
    }
    forged = jwt.encode(claims, secret, algorithm="HS256")  # signed right, but for the other org
    expect_error(call(proc.url, "GET", "ratings-bulk/", forged), 403, 50)
    expect_error(call(proc.url, "GET", "databases/current/", forged), 403, 50)


def test_token_of_another_server_is_refused(proc: ServerProcess, server: ServerProcess) -> None:
    foreign = token_of(root(server.url).database("json"))
    expect_error(call(proc.url, "GET", "databases/current/", foreign), 401, 21)
    expect_error(call(proc.url, "POST", "login/jwt/", foreign, fmt="pkl"), 401, 21)
