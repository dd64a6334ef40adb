"""Retries, timeouts, error mapping and the restricted unpickler, against tiny real HTTP servers."""

from __future__ import annotations

import json
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from recoapi.client import (
    ConnectionFailed,
    NotFoundError,
    RecoClient,
    RetryPolicy,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
)
from recoapi.client._transport import Transport, parse_retry_after

Reply = tuple[int, dict[str, str], bytes]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out leave broken pipes behind; that is the point of those tests


class Scripted:
    """An HTTP server answering from a list of replies (the last one repeats); records requests."""

    def __init__(self, replies: list[Reply | Callable[[], Reply]]) -> None:
        self.replies = replies
        self.requests: list[tuple[str, str, dict[str, str], bytes, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests.append(
                    (self.command, self.path, dict(self.headers), body, time.monotonic())
                )
                reply = outer.replies[min(len(outer.requests), len(outer.replies)) - 1]
                status, headers, content = reply() if callable(reply) else reply
                self.send_response(status)
                for key, value in {"Content-Length": str(len(content)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[Callable[[list[Any]], Scripted]]:
    servers: list[Scripted] = []

    def make(replies: list[Any]) -> Scripted:
        servers.append(Scripted(replies))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _json(status: int, body: Any, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def _error(status: int, code: int, name: str, **headers: str) -> Reply:
    return _json(
        status,
        {
            "error_code": code,
            "error_name": name,
            "message": f"{name} happened",
            "error_data": {"name": name},
        },
        **headers,
    )


FAST = RetryPolicy(retries=3, backoff=0.05)


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RecoClient(f"http://127.0.0.1:{port}", retries=FAST, progress=False)
    start = time.monotonic()
    with pytest.raises(ConnectionFailed) as info:
        client.login_individual("a@b.c", "password")
    assert time.monotonic() - start >= 0.05 + 0.1 + 0.2  # three backoffs: 0.05, 0.1, 0.2
    assert isinstance(info.value, ServerUnavailable) and isinstance(info.value, ServerError)
    assert "ConnectError" in str(info.value)


def test_503_with_retry_after_is_honoured_once(scripted: Callable[[list[Any]], Scripted]) -> None:
    server = scripted(
        [
            _error(503, 1, "SERVER_UNAVAILABLE", **{"Retry-After": "1"}),
            _json(200, {"token": "t", "refresh_token": "r", "org_id": "o"}),
        ]
    )
    client = RecoClient(server.url, progress=False)
    answer = client.login_individual("a@b.c", "password")
    assert answer["token"] == "t" and client.jwt_token == "t"
    assert len(server.requests) == 2
    waited = server.requests[1][4] - server.requests[0][4]
    assert 0.9 <= waited < 3
    assert server.requests[0][3] == server.requests[1][3]  # the same body both times


def test_429_is_retried_with_backoff_then_raised(scripted: Callable[[list[Any]], Scripted]) -> None:
    server = scripted([_error(429, 2, "TOO_MANY_REQUESTS")])
    client = RecoClient(server.url, retries=RetryPolicy(retries=2, backoff=0.05), progress=False)
    with pytest.raises(TooManyRequests) as info:
        client.login_individual("a@b.c", "password")
    assert len(server.requests) == 3
    assert info.value.status_code == 429 and info.value.name == "TOO_MANY_REQUESTS"


def test_long_retry_after_is_not_waited_for(scripted: Callable[[list[Any]], Scripted]) -> None:
    server = scripted([_error(429, 2, "TOO_MANY_REQUESTS", **{"Retry-After": "3600"})])
    client = RecoClient(server.url, progress=False)
    start = time.monotonic()
    with pytest.raises(TooManyRequests) as info:
        client.login_individual("a@b.c", "password")
    assert time.monotonic() - start < 1 and len(server.requests) == 1
    assert info.value.retry_after == 3600


def test_database_not_ready_is_raised_at_once(scripted: Callable[[list[Any]], Scripted]) -> None:
    server = scripted([_error(503, 1, "DATABASE_NOT_READY")])
    transport = Transport(server.url, retry=FAST)
    with pytest.raises(ServerUnavailable) as info:
        transport.request("GET", "recommendation/items/1/items/")
    assert info.value.name == "DATABASE_NOT_READY" and len(server.requests) == 1


def test_answers_without_error_code_map_by_status(
    scripted: Callable[[list[Any]], Scripted],
) -> None:
    server = scripted(
        [
            (502, {"Content-Type": "text/html"}, b"<h1>bad gateway</h1>"),
            (404, {"Content-Type": "text/plain"}, b"nothing here"),
        ]
    )
    transport = Transport(server.url, retry=RetryPolicy(retries=0))
    with pytest.raises(ServerError, match="HTTP 502"):
        transport.request("GET", "x")
    with pytest.raises(NotFoundError, match="nothing here"):
        transport.request("GET", "x")


def test_read_timeout_retries_only_idempotent_calls(
    scripted: Callable[[list[Any]], Scripted],
) -> None:
    def slow() -> Reply:
        time.sleep(0.5)
        return _json(200, {})

    server = scripted([slow])
    transport = Transport(server.url, timeout=0.1, retry=RetryPolicy(retries=1, backoff=0.01))
    with pytest.raises(ConnectionFailed, match="ReadTimeout"):
        transport.request("POST", "x", data={"a": 1})
    assert len(server.requests) == 1
    with pytest.raises(ConnectionFailed):
        transport.request("GET", "x")
    assert len(server.requests) == 3


def test_per_call_timeout_overrides_the_default(scripted: Callable[[list[Any]], Scripted]) -> None:
    def slow() -> Reply:
        time.sleep(0.3)
        return _json(200, {"ok": True})

    server = scripted([slow])
    transport = Transport(server.url, timeout=0.05, retry=RetryPolicy(retries=0))
    assert transport.request("GET", "x", timeout=5) == {"ok": True}


def test_requests_carry_format_headers_and_query(scripted: Callable[[list[Any]], Scripted]) -> None:
    server = scripted([(204, {}, b"")])
    transport = Transport(server.url, serializer="pkl")
    transport.token = "abc"
    assert (
        transport.request("GET", "things", params={"flag": True, "tags": ["a", "b"], "none": None})
        is None
    )
    method, path, headers, body, _ = server.requests[0]
    assert (method, body) == ("GET", b"")
    assert path == "/v1/things/?flag=true&tags=a&tags=b"
    assert (
        headers["Accept"] == "application/xminds-pkl" and headers["Authorization"] == "Bearer abc"
    )


def test_pkl_answers_cannot_run_code(
    scripted: Callable[[list[Any]], Scripted], tmp_path: Any
) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    server = scripted(
        [(200, {"Content-Type": "application/xminds-pkl"}, pickle.dumps({"x": Evil()}))]
    )
    transport = Transport(server.url, serializer="pkl")
    with pytest.raises(pickle.UnpicklingError, match="forbidden global"):
        transport.request("GET", "x")
    assert not marker.exists()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (parse_retry_after(date) or 0) <= 31


def test_unknown_serializer_is_refused() -> None:
    with pytest.raises(ValueError, match="serializer"):
        RecoClient("http://127.0.0.1:1", serializer="xml")
    with pytest.raises(ValueError, match="must be a URL"):
        RecoClient("127.0.0.1:8000")
