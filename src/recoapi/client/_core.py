"""What every area of the client shares: the transport, login state, ids and progress bars."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]

from recoapi.client._arrays import id_to_path, ids_to_body, property_dtype, to_json
from recoapi.client._errors import JwtTokenExpired
from recoapi.client._transport import RetryPolicy, Transport

AUTO_FRONTEND_ID = None
"""Pass as a user or session id to mean "the one in my frontend token" (``~me`` in paths)."""

DEFAULT_HOST = "http://127.0.0.1:8000"


class ClientCore:
    """State and plumbing; the public methods live in the area mixins."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        *,
        serializer: str = "json",
        timeout: float | httpx.Timeout = 10.0,
        bulk_timeout: float = 60.0,
        retries: int | RetryPolicy = 3,
        progress: bool = True,
        auto_refresh_token: bool = True,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Connect to a server (no request is sent until the first call).

        :param host: server URL, e.g. ``http://127.0.0.1:8000`` (the API lives under ``/v1/``)
        :param serializer: ``"json"`` (default) or ``"pkl"`` (pickled numpy arrays, faster
            for bulk data; answers are unpickled with numpy-only globals); both return the
            same values
        :param timeout: seconds for ordinary calls, or an ``httpx.Timeout``
        :param bulk_timeout: seconds for each chunk of a bulk upload
        :param retries: extra attempts on connection errors, 429 and 503, or a ``RetryPolicy``
        :param progress: show tqdm bars for bulk uploads and waits
        :param auto_refresh_token: on an expired access token, log in again with the refresh
            token and repeat the call once
        :param transport: an ``httpx.BaseTransport`` to send requests through
        :param headers: extra headers for every request
        """
        policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=retries)
        self._transport = Transport(
            host,
            serializer=serializer,
            timeout=timeout,
            retry=policy,
            transport=transport,
            headers=headers,
        )
        self.bulk_timeout = bulk_timeout
        self.progress = progress
        self.auto_refresh_token = auto_refresh_token
        self._database: dict[str, Any] | None = None
        self._refresh_token: str | None = None
        self._org_id: str | None = None
        self._schemas: dict[str, dict[str, tuple[np.dtype, bool]]] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._transport.host

    @property
    def serializer(self) -> str:
        return self._transport.serializer

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._transport.close()

    def __enter__(self) -> ClientCore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        db = self._database.get("id") if self._database else None
        name = type(self).__name__
        return f"<{name} host={self.host!r} serializer={self.serializer!r} database={db!r}>"

    # --- tokens --------------------------------------------------------------------------------

    @property
    def jwt_token(self) -> str | None:
        """The current access token."""
        return self._transport.token

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token (rotated by every refresh)."""
        return self._refresh_token

    @property
    def database(self) -> dict[str, Any] | None:
        """The database the token is bound to (``id``, ``name``, ``*_id_type``), if any."""
        return self._database

    @property
    def last_headers(self) -> httpx.Headers | None:
        """Headers of the last answer."""
        return self._transport.last_headers

    def set_jwt_token(self, jwt_token: str) -> None:
        """Use this access token from now on (its database is looked up when needed)."""
        self._transport.token = jwt_token
        self._database = None
        self._schemas.clear()

    def clear_jwt_token(self) -> None:
        self._transport.token = None

    @staticmethod
    def escape_url(param: str) -> str:
        return quote(param, safe="")

    # --- requests ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """One authenticated call; an expired token is refreshed once, then the call repeated."""
        body = self._body(data)
        try:
            return self._transport.request(method, path, params=params, data=body, timeout=timeout)
        except JwtTokenExpired:
            if not (self._refresh_token and self.auto_refresh_token):
                raise
            self._refresh()
            return self._transport.request(method, path, params=params, data=body, timeout=timeout)

    def _refresh(self) -> None:
        data = {"refresh_token": self._refresh_token}
        self._remember(
            self._transport.request("POST", "login/refresh-token/", data=data, auth=False)
        )

    def _login(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        answer = self._transport.request("POST", path, data=self._body(data), auth=False)
        self._remember(answer)
        return dict(answer)

    def _remember(self, answer: Mapping[str, Any]) -> None:
        self._transport.token = answer["token"]
        self._refresh_token = answer["refresh_token"]
        self._org_id = answer.get("org_id")
        self._database = answer.get("database")
        self._schemas.clear()

    def _body(self, data: Any) -> Any:
        if data is None or self.serializer == "pkl":
            return data
        return to_json(data, self._id_types(required=False))

    # --- ids -----------------------------------------------------------------------------------

    def _id_types(self, *, required: bool = True) -> dict[str, str]:
        """``{"item": "uint32", "user": ..., "session": ...}`` of the bound database."""
        if self._database is None and required and self._transport.token:
            found = self._call("POST", "login/jwt/").get("database")
            self._database = found
        if self._database is None:
            if required:
                raise RuntimeError("log in to a database first (login_* with db_id or db_name)")
            return {}
        return {
            e: str(self._database[f"{e}_id_type"])
            for e in ("item", "user", "session")
            if self._database.get(f"{e}_id_type")
        }

    def _id_type(self, entity: str) -> str:
        return self._id_types()[entity]

    def _path_id(self, value: Any, entity: str) -> str:
        if value is AUTO_FRONTEND_ID and entity in ("user", "session"):
            return "~me"
        return quote(id_to_path(value, self._id_type(entity)), safe="")

    def _body_ids(self, ids: Any, entity: str) -> Any:
        return ids_to_body(ids, self._id_type(entity), self.serializer)

    def _body_id(self, value: Any, entity: str) -> Any:
        if self.serializer == "pkl":
            return value
        return to_json({f"{entity}_id": value}, self._id_types())[f"{entity}_id"]

    # --- property schemas ----------------------------------------------------------------------

    def _schema(self, entity: str) -> dict[str, tuple[np.dtype, bool]]:
        """``{name: (dtype, repeated)}`` of the item or user properties, cached until changed."""
        if entity not in self._schemas:
            answer = self._call("GET", f"{entity}s-properties/")
            self._schemas[entity] = {
                str(p["property_name"]).lower(): (
                    property_dtype(str(p["value_type"])),
                    bool(p["repeated"]),
                )
                for p in answer.get("properties", [])
            }
        return self._schemas[entity]

    # --- progress ------------------------------------------------------------------------------

    def _bar(
        self,
        total: int | None,
        desc: str,
        unit: str,
        *,
        show: bool = True,
        bar_format: str | None = None,
    ) -> Any:
        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            leave=True,
            bar_format=bar_format,
            disable=not (self.progress and show),
            dynamic_ncols=True,
        )


def drop_none(**values: Any) -> dict[str, Any]:
    """Keyword arguments without the unset ones."""
    return {k: v for k, v in values.items() if v is not None}
