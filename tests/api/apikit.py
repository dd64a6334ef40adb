"""Helpers for the HTTP API tests: reference clients on fresh databases, raw requests, errors.

Plain functions rather than fixtures, so that nothing here competes with ``tests/conftest.py``.
Logging in with a password costs half a second (argon2 is slow on purpose), so each server
gets one password login; later clients continue its refresh-token chain (``Root.client``).
"""

from __future__ import annotations

import json
import pickle
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import pytest
from xminds.api import exceptions as xerr
from xminds.api.client import CrossingMindsApiClient

from server import ROOT_EMAIL, ROOT_PASSWORD

PKL = "application/xminds-pkl"
SERIALIZERS = ("pkl", "json")


class Root:
    """Root logins on one server: one password login, then copies and the refresh-token chain.

    ``org`` clients share the organization-level access token (valid one hour). Each
    ``client`` on a database consumes the previous spare refresh token and hands on its
    own, so it keeps a valid access token but cannot refresh it by itself.
    """

    def __init__(self, url: str, email: str = ROOT_EMAIL, password: str = ROOT_PASSWORD) -> None:
        self.url, self.email, self.password = url, email, password
        self._token: str | None = None
        self._spare: str | None = None

    def org(self, serializer: str = "json") -> CrossingMindsApiClient:
        """A client with an organization-level root token (no database selected)."""
        client = CrossingMindsApiClient(serializer=serializer, host=self.url)
        if self._token is None:
            answer = client.login_individual(self.email, self.password)
            self._token, self._spare = answer["token"], answer["refresh_token"]
        client.set_jwt_token(self._token)
        return client

    def client(self, serializer: str, db_id: str) -> CrossingMindsApiClient:
        """A root client logged in to the database ``db_id``."""
        if self._spare is None:
            self.org()
        client = CrossingMindsApiClient(serializer=serializer, host=self.url)
        try:
            answer = client.login_refresh_token(self._spare, db_id=db_id)
        except xerr.RefreshTokenExpired:  # a test spent the spare token itself
            answer = client.login_individual(self.email, self.password, db_id=db_id)
        self._spare = answer["refresh_token"]
        return client

    def database(
        self,
        serializer: str = "json",
        item: str = "uint32",
        user: str = "uint32",
        session: str | None = None,
        **extra: Any,
    ) -> CrossingMindsApiClient:
        """A client on a new database with the given id types."""
        db = self.org().create_database(
            f"api-{uuid.uuid4().hex[:12]}", "api test", item, user, session_id_type=session, **extra
        )
        return self.client(serializer, db["id"])


_ROOTS: dict[str, Root] = {}


def root(url: str) -> Root:
    if url not in _ROOTS:
        _ROOTS[url] = Root(url)
    return _ROOTS[url]


# --- raw HTTP -----------------------------------------------------------------------------

_HTTP: list[httpx.Client] = []


def _http() -> httpx.Client:
    """One pooled client for the whole run (making an httpx client costs tens of milliseconds)."""
    if not _HTTP:
        _HTTP.append(httpx.Client(timeout=30))
    return _HTTP[0]


def call(
    url: str,
    method: str,
    path: str,
    token: str | None = None,
    *,
    body: Any = None,
    fmt: str = "json",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    http: httpx.Client | None = None,
    **params: Any,
) -> httpx.Response:
    """One request as the reference client would send it, in ``fmt`` (``json`` or ``pkl``)."""
    sent = (
        {"Content-Type": PKL, "Accept": PKL, "Content-Encoding": "gzip"}
        if fmt == "pkl"
        else {"Content-Type": "application/json", "Accept": "application/json"}
    )
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    if content is None and body is not None:
        content = (
            zlib.compress(pickle.dumps(body, protocol=4))
            if fmt == "pkl"
            else json.dumps(body).encode()
        )
    return (http or _http()).request(
        method,
        f"{url}/v1/{path.lstrip('/')}",
        content=content,
        headers=sent,
        params=params or None,
        timeout=30,
    )


def answer(resp: httpx.Response) -> Any:
    """The decoded body of a reply (pkl replies are ours, so unpickling is safe)."""
    if not resp.content:
        return None
    if resp.headers.get("content-type", "").startswith(PKL):
        return pickle.loads(resp.content)
    return resp.json()


def expect_error(
    resp: httpx.Response, status: int, code: int, name: str | None = None
) -> dict[str, Any]:
    """Check an error reply against ENDPOINTS.md §5 and return its body."""
    body = answer(resp)
    assert resp.status_code == status, (resp.status_code, body)
    assert isinstance(body, dict), body
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["error_data"]["name"] == body["error_name"], body
    if name is not None:
        assert body["error_name"] == name, body
    return body


@contextmanager
def xminds_error(
    cls: type[xerr.XMindsError], name: str | None = None
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect the reference client to raise exactly ``cls`` (not a subclass or a ServerError)."""
    with pytest.raises(xerr.XMindsError) as info:
        yield info
    assert type(info.value) is cls, (type(info.value).__name__, info.value.data)
    if name is not None:
        assert info.value.data["name"] == name, info.value.data


def token_of(client: CrossingMindsApiClient) -> str:
    return str(client.jwt_token)


# --- data ---------------------------------------------------------------------------------


def as_dicts(arr: np.ndarray) -> list[dict[str, Any]]:
    names = arr.dtype.names or ()
    return [dict(zip(names, row, strict=True)) for row in arr.tolist()]


def wire(arr: np.ndarray, serializer: str) -> Any:
    """Structured arrays for pkl; lists of dicts for JSON (numpy is not JSON serializable)."""
    return arr if serializer == "pkl" else as_dicts(arr)


def ids(values: Any) -> list[Any]:
    """Ids of a reply as plain Python values (numpy scalars and arrays unwrapped)."""
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]


def rows(values: Any) -> list[dict[str, Any]]:
    """A reply table (structured array or list of dicts) as plain dicts."""
    if isinstance(values, np.ndarray):
        return as_dicts(values)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in values
    ]


def m2m(reply: dict[str, Any], entity: str, name: str) -> dict[Any, list[Any]]:
    """Repeated values of a listing reply, by entity id."""
    plural = f"{entity}s"
    keys = [row[f"{entity}_id"] for row in rows(reply[plural])]
    found: dict[Any, list[Any]] = {}
    for group in reply.get(f"{plural}_m2m") or []:
        if group["name"] == name:
            for row in rows(group["array"]):
                found.setdefault(keys[row[f"{entity}_index"]], []).append(row["value_id"])
    return found
