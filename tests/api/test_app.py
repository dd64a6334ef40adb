"""The request pipeline over real HTTP (§1, §2, §5): hostile bodies, errors, routing, no 500s."""

from __future__ import annotations

import gzip
import os
import pickle
import socket
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from apikit import PKL, SERIALIZERS, answer, call, expect_error, root, token_of, xminds_error
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from recoapi.api.factory import build_router
from server import ROOT_EMAIL, ServerProcess


class Exploit:
    """Pickles to ``func(*args)``: what a hostile body would run under plain ``pickle.loads``."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


def exploits(sentinel: Path) -> dict[str, bytes]:
    command = f"touch {sentinel}"
    return {
        "os.system": pickle.dumps({"items": Exploit(os.system, command)}, protocol=4),
        "builtins.eval": pickle.dumps(
            Exploit(eval, f"__import__('os').system({command!r})"), protocol=4
        ),
        "subprocess.Popen": pickle.dumps(
            {"ratings": [Exploit(subprocess.Popen, ["touch", str(sentinel)])]}, protocol=2
        ),
        "protocol 0": f"cos\nsystem\n(S'{command}'\ntR.".encode(),
    }


@pytest.fixture(scope="module")
def db(server: ServerProcess) -> CrossingMindsApiClient:
    return root(server.url).database("pkl")


def healthy(server: ServerProcess) -> bool:
    return httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


# --- hostile bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("authorized", [False, True])
def test_pickles_naming_other_globals_never_run(
    server: ServerProcess, db: CrossingMindsApiClient, tmp_path: Path, authorized: bool
) -> None:
    sentinel = tmp_path / "pwned"
    token = token_of(db) if authorized else None
    for name, payload in exploits(sentinel).items():
        for body in (zlib.compress(payload), gzip.compress(payload), payload):
            for path in ("items-bulk/properties/", "login/individual/", "ratings-bulk/"):
                method = "POST" if path.startswith("login") else "PUT"
                resp = call(server.url, method, path, token, fmt="pkl", content=body)
                error = expect_error(resp, 400, 40)
                assert resp.headers["content-type"] == PKL
                assert "forbidden global" in error["message"], (name, error["message"])
    time.sleep(0.2)
    assert not sentinel.exists()
    pickle.loads(exploits(sentinel)["os.system"])  # control: the payload is a real exploit
    assert sentinel.exists()


def test_zlib_bomb_is_refused_and_the_server_stays_up(
    server: ServerProcess, db: CrossingMindsApiClient
) -> None:
    for wbits in (zlib.MAX_WBITS, 16 + zlib.MAX_WBITS):  # zlib as the client sends, and gzip
        packer, zeros = zlib.compressobj(1, wbits=wbits), bytes(2**20)
        bomb = (
            b"".join(packer.compress(zeros) for _ in range(300)) + packer.flush()
        )  # 300 MiB in 1.3 MiB
        error = expect_error(
            call(server.url, "PUT", "ratings-bulk/", token_of(db), fmt="pkl", content=bomb), 400, 40
        )
        assert "bytes" in error["message"]
    assert healthy(server)
    assert db.get_database()["counters"]["rating"] == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"\x80\x04garbage", PKL),
        (os.urandom(512), PKL),
        (zlib.compress(b"not a pickle at all"), PKL),
        (zlib.compress(pickle.dumps({"a": 1}))[:-6], PKL),  # truncated zlib stream
        (zlib.compress(pickle.dumps([1, 2, 3])), PKL),  # not a dict
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b'{"ratings": [' * 5000, "application/json"),
        (b'{"a": Infinity}', "application/json"),
    ],
)
def test_garbage_bodies_are_code_40(
    server: ServerProcess, db: CrossingMindsApiClient, content: bytes, content_type: str
) -> None:
    for token in (None, token_of(db)):
        resp = call(
            server.url,
            "PUT",
            "ratings-bulk/",
            token,
            content=content,
            headers={"Content-Type": content_type, "Accept": content_type},
        )
        expect_error(resp, 400, 40)
        assert resp.headers["content-type"] == content_type


def test_declared_oversize_body_is_refused(
    server: ServerProcess, db: CrossingMindsApiClient
) -> None:
    head = (
        f"PUT /v1/ratings-bulk/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token_of(db)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {2**40}\r\n\r\n{{}}"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        reply = ""
        while '"error_code"' not in reply or not reply.rstrip().endswith("}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk.decode("latin-1")
    assert reply.startswith("HTTP/1.1 400 "), reply[:200]
    assert '"error_code":40' in reply
    assert healthy(server)


# --- error shape and format -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", SERIALIZERS)
def test_errors_follow_the_requested_format(
    server: ServerProcess, db: CrossingMindsApiClient, fmt: str
) -> None:
    resp = call(server.url, "GET", "items/123/properties/", token_of(db), fmt=fmt)
    body = expect_error(resp, 404, 60, "ITEM_NOT_FOUND")
    assert resp.headers["content-type"].startswith(PKL if fmt == "pkl" else "application/json")
    assert body["error_data"] == {"name": "ITEM_NOT_FOUND", "type": "item", "key": "123"}
    crossed = call(
        server.url,
        "GET",
        "items/123/properties/",
        token_of(db),
        fmt="json",
        headers={"Accept": PKL},
    )
    assert crossed.headers["content-type"] == PKL and answer(crossed)["error_code"] == 60
    for client_error in (lambda: db.get_item(123),):
        with xminds_error(xerr.NotFoundError, "ITEM_NOT_FOUND"):  # a pkl client reads the pkl error
            client_error()


def test_unknown_path_and_wrong_method(server: ServerProcess, db: CrossingMindsApiClient) -> None:
    for fmt in SERIALIZERS:
        expect_error(
            call(server.url, "GET", "no/such/endpoint/", token_of(db), fmt=fmt),
            404,
            60,
            "PATH_NOT_FOUND",
        )
        expect_error(call(server.url, "GET", "no/such/endpoint/", fmt=fmt), 404, 60)
        body = expect_error(
            call(server.url, "DELETE", "ratings-bulk/", token_of(db), fmt=fmt), 405, 70
        )
        assert body["error_data"]["method"] == "DELETE"
        expect_error(call(server.url, "PATCH", "login/individual/", fmt=fmt), 405, 70)
    assert httpx.get(f"{server.url}/nothing-here", timeout=5).status_code == 404
    with xminds_error(xerr.MethodNotAllowed):
        db.api.delete("ratings-bulk/")
    with xminds_error(xerr.NotFoundError):
        db.api.get("items-bulk/nothing/")


def test_paths_work_with_and_without_trailing_slash(
    server: ServerProcess, db: CrossingMindsApiClient
) -> None:
    db.create_or_update_rating(1, 2, 5.0)
    for path in ("users/1/ratings/2/", "users/1/ratings/2"):
        resp = call(server.url, "PUT", path, token_of(db), body={"rating": 6.0})
        assert resp.status_code == 204 and not resp.content, resp.text
    assert (
        httpx.get(
            f"{server.url}/v1/databases/current",
            headers={"Authorization": f"Bearer {token_of(db)}"},
            timeout=5,
        ).status_code
        == 200
    )


def test_pkl_successes_are_pickles_or_204(
    server: ServerProcess, db: CrossingMindsApiClient
) -> None:
    done = call(server.url, "POST", "login/jwt/", token_of(db), fmt="pkl")
    assert (
        done.status_code == 200 and done.headers["content-type"] == PKL and answer(done)["database"]
    )
    empty = call(server.url, "PATCH", "databases/current/", token_of(db), fmt="pkl")
    assert empty.status_code == 204 and empty.content == b""
    bulk = call(
        server.url, "POST", "interactions-bulk/", token_of(db), fmt="pkl", body={"interactions": []}
    )
    assert bulk.status_code == 200 and isinstance(answer(bulk), dict)


def test_health_openapi_and_docs_need_no_token(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json", timeout=5).json()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    served = {(r.method, r.template) for r in build_router().routes}
    assert served <= documented | {("GET", "/openapi.json"), ("GET", "/docs")}
    docs = httpx.get(f"{server.url}/docs", timeout=5)
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")


def test_free_form_documents_hold_plain_json(server: ServerProcess) -> None:
    client = root(server.url).database("pkl")
    for document in PKL_DOCUMENTS[::2] + PKL_DOCUMENTS[3:4]:  # NaN, bytes, int keys, arrays
        with xminds_error(xerr.WrongData):
            client.partial_update_database(metadata=document)
        with xminds_error(xerr.WrongData):
            client.create_interaction(1, 1, "like", properties=document)
        with xminds_error(xerr.WrongData):
            client.create_or_replace_scenario(
                "item_to_items", "s", {"scenario_type": "case", "case": {"x": document}}
            )
        with xminds_error(xerr.WrongData):
            root(server.url).org("pkl").create_service_account("svc-doc", metadata=document)
    client.partial_update_database(metadata={"n": np.int64(3), "f": [np.float32(0.5)]})
    assert client.get_database()["metadata"] == {"n": 3, "f": [0.5]}
    events = np.array(
        [(1, 1, "like", 1e9)],
        dtype=[
            ("user_id", "<u4"),
            ("item_id", "<u4"),
            ("interaction_type", "<U8"),
            ("timestamp", "<f8"),
        ],
    )
    with_props = np.empty(1, dtype=events.dtype.descr + [("properties", "O")])
    for name in events.dtype.names or ():
        with_props[name] = events[name]
    with_props["properties"][0] = {"price": np.float64("inf")}
    with xminds_error(xerr.WrongData):
        client.create_interactions_bulk(with_props)
    with_props["properties"][0] = {"price": np.float32(2.5)}
    client.create_interactions_bulk(with_props)
    assert client.list_interactions()["interactions"][0]["properties"] == {"price": 2.5}


EMPTY_BULKS = [
    ("POST", "interactions-bulk/", {"interactions": []}),
    ("POST", "sessions-interactions-bulk/", {"interactions": []}),
    ("PUT", "ratings-bulk/", {"ratings": []}),
    ("PUT", "users/1/ratings/", {"ratings": []}),
    ("PUT", "items-bulk/properties/", {"items": [], "items_m2m": []}),
    ("PATCH", "users-bulk/properties/", {"users": []}),
    ("POST", "users/1/interactions-bulk/", {"interactions": []}),
    ("DELETE", "items-bulk/properties/", {"items_id": []}),
]


@pytest.mark.parametrize("fmt", SERIALIZERS)
def test_empty_bulks_are_no_ops(server: ServerProcess, fmt: str) -> None:
    client = root(server.url).database(fmt)
    for method, path, body in EMPTY_BULKS:  # an empty list of dicts names no fields at all
        resp = call(server.url, method, path, token_of(client), body=body, fmt=fmt)
        assert resp.status_code in (200, 204), (path, answer(resp))
    assert set(client.get_database()["counters"].values()) == {0}


# --- no 500 anywhere ------------------------------------------------------------------------------

FIELDS = (
    "items",
    "items_m2m",
    "users",
    "users_m2m",
    "ratings",
    "interactions",
    "items_id",
    "users_id",
    "item",
    "user",
    "rating",
    "timestamp",
    "interaction_type",
    "properties",
    "user_id",
    "item_id",
    "session_id",
    "amt",
    "cursor",
    "filters",
    "reranking",
    "name",
    "email",
    "password",
    "role",
    "property_name",
    "value_type",
    "repeated",
    "indexed",
    "metadata",
    "core_config",
    "description",
    "preserve",
    "create_if_missing",
    "db_id",
    "db_name",
    "refresh_token",
    "scenario",
    "scenario_type",
    "case",
    "ab_test",
    "condition",
    "context_items",
    "user_properties",
    "item_properties",
    "consensus_factor",
    "expiration_timestamp",
    "table",
    "payload",
    "frontend_user_id",
    "frontend_session_id",
    "start_timestamp",
    "end_timestamp",
    "exclude_rated_items",
)
ODD_VALUES: list[Any] = [
    "x",
    -1,
    0,
    2**70,
    1.5,
    True,
    None,
    [],
    {},
    [None],
    [{"a": [1]}],
    {"name": 5, "array": "x"},
    [{"item_id": [1], "user_id": {}, "rating": "x", "item_index": -4, "value_id": None}],
]
PKL_VALUES: list[Any] = [
    np.zeros(3, dtype=[("wrong", "<u4")]),
    np.zeros((2, 2)),
    np.array([], dtype="<U3"),
    np.float64("nan"),
    np.zeros(
        2, dtype=[("user_id", "<f8"), ("item_id", "S3"), ("rating", "<U2"), ("timestamp", "?")]
    ),
    np.zeros(2, dtype=[("item_index", "<i8"), ("value_id", "<c16")]),
    np.uint64(2**64 - 1),
]
QUERIES: list[dict[str, Any]] = [
    {},
    {"amt": "x"},
    {"amt": "-3", "page": "0"},
    {"cursor": "!!"},
    {"filters": "::"},
    {"filters": "year:in:", "reranking": "a:b:c:d"},
    {"start_timestamp": "nan", "end_timestamp": "inf"},
]


MIXED_BODIES: list[dict[str, Any]] = [
    {
        "scenario_type": "case",
        "case": {
            "filters": [5, None],
            "reranking": [{}],
            "algorithms": 5,
            "candidates_preselection": "x",
            "exclude_rated_items": "x",
        },
    },
    {"scenario_type": "ab_test", "ab_test": {"id": [], "scenario_a": ["x"], "scenario_b": 5}},
    {"scenario_type": "condition", "condition": {"if": 5, "then": None, "condition_type": []}},
    {
        "ratings": [{"item_id": 1, "rating": 5.0}],
        "interactions": [{"item_id": 1, "interaction_type": "x"}],
    },
    {
        "items_id": [1, 1, 1],
        "users": [{"user_id": 1}],
        "context_items": [{"item_id": 2}],
        "amt": 64,
        "filters": ["genres:eq:x", {"property_name": "genres", "op": "in", "value": [1, None]}],
        "reranking": [
            "genres:diversity:0.5",
            {"property_name": "genres", "op": "diversity", "weight": -1},
        ],
    },
    {
        "user_properties": {"age": "x"},
        "item_properties": {"genres": 5},
        "consensus_factor": "x",
        "user_id": 1,
    },
    {
        "item": {"genres": [[1]]},
        "user": {"nope": 1},
        "rating": 5.0,
        "interaction_type": "x",
        "properties": [1],
    },
]


PKL_DOCUMENTS: list[Any] = [  # free-form objects with what JSON cannot hold
    {"a": float("nan")},
    {"a": [np.float32(1), np.int64(2)]},
    {"a": b"x"},
    {1: 2},
    {"a": np.zeros(2)},
]


def fuzz_bodies(fmt: str) -> list[dict[str, Any]]:
    values = ODD_VALUES + (PKL_VALUES + PKL_DOCUMENTS if fmt == "pkl" else [])
    return [{}, *MIXED_BODIES] + [{field: value for field in FIELDS} for value in values]


def concrete(template: str) -> str:
    """A real path for a route template: ids that exist, names that parse."""
    path = template.removeprefix("/v1/")
    names = {
        "{key_id}": "abc",
        "{reco_type}": "item_to_items",
        "{prop}": "genres",
        "{name}": "ml_model_retrain" if path.startswith("tasks/") else "genres",
        "{session_id}": "00000000-0000-0000-0000-000000000001",
    }
    for param, value in names.items():
        path = path.replace(param, value)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "1" + path[end + 1 :]
    return path


def attempts(method: str, fmt: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    bodies = fuzz_bodies(fmt) if method != "GET" else [{}]
    return [(body, {}) for body in bodies] + [({}, query) for query in QUERIES]


def test_no_server_error_anywhere(server: ServerProcess) -> None:
    client = root(server.url).database("pkl")
    client.create_item_property("genres", "unicode8", repeated=True)
    client.create_or_update_rating(1, 1, 5.0)
    token = token_of(client)
    routes = [r for r in build_router().routes if r.template.startswith("/v1/")]
    routes.sort(
        key=lambda r: r.template == "/v1/databases/current/" and r.method == "DELETE"
    )  # that one last
    failures = []
    with httpx.Client(timeout=30) as http:
        for route in routes:
            path = concrete(route.template)
            for fmt in SERIALIZERS:
                for body, query in attempts(route.method, fmt):
                    resp = call(
                        server.url,
                        route.method,
                        path,
                        token,
                        body=body,
                        fmt=fmt,
                        http=http,
                        **query,
                    )
                    if resp.status_code == 500 or (
                        resp.status_code >= 400 and answer(resp)["error_code"] == 0
                    ):
                        failures.append(
                            (
                                route.method,
                                path,
                                fmt,
                                resp.status_code,
                                answer(resp)["message"],
                                sorted(body)[:1],
                                body.get("items"),
                                query,
                            )
                        )
    assert not failures, "\n".join(sorted({str(f[:5]) for f in failures}))
    assert healthy(server)
    wrong = call(
        server.url, "POST", "login/individual/", body={"email": ROOT_EMAIL, "password": "wrong"}
    )
    assert wrong.status_code == 401
