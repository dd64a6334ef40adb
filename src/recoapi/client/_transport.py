"""HTTP for the client: wire formats, error mapping and retries (ENDPOINTS.md §1-2, §5).

``Transport`` sends one API call and returns the decoded answer, or raises the
``XMindsError`` subclass named by the answer's ``error_code``. Calls that got no answer
(connection refused or reset, timeouts), 429 and 503 are retried with exponential backoff,
honouring ``Retry-After``; see ``RetryPolicy``.

Formats: ``json`` (default) and ``pkl`` (``application/xminds-pkl``: a zlib-compressed
pickle up, a bare pickle down). pkl answers are read with a restricted unpickler that only
rebuilds numpy arrays and scalars, so even pkl does not let a server run code in the client.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import json
import pickle
import platform
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from recoapi import __version__
from recoapi.client._errors import (
    AuthError,
    ConnectionFailed,
    ForbiddenError,
    MethodNotAllowed,
    NotFoundError,
    RequestError,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    XMindsError,
)

JSON_TYPE = "application/json"
PKL_TYPE = "application/xminds-pkl"
SERIALIZERS = ("json", "pkl")
PICKLE_PROTOCOL = 4
PYTHON = platform.python_version()
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_STATUS_CLASSES: dict[int, type[XMindsError]] = {
    400: RequestError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowed,
    429: TooManyRequests,
    503: ServerUnavailable,
}
# Rebuilding numpy objects needs exactly these callables; take them from numpy objects
# rather than importing ``numpy.core`` (deprecated in numpy 2) or ``numpy._core`` (private).
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_SCALAR = np.float64(0).__reduce__()[0]
_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a call again.

    ``retries`` extra attempts are made after the first one. The n-th wait is
    ``backoff * 2**n`` seconds, at most ``max_backoff``, unless the server sent
    ``Retry-After``: that value is used, and if it exceeds ``max_retry_after`` the error
    is raised at once. A 503 ``DATABASE_NOT_READY`` is a state, not an overload: it is
    raised at once (use ``wait_until_ready``).
    """

    retries: int = 3
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def wait(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return min(self.backoff * 2.0**attempt, self.max_backoff)


class _SafeUnpickler(pickle.Unpickler):
    """Rebuilds dicts, lists, strings, numbers and numpy arrays/scalars; nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _MULTIARRAY and name == "_reconstruct":
            return _RECONSTRUCT
        if module in _MULTIARRAY and name == "scalar":
            return _SCALAR
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        raise pickle.UnpicklingError(
            f"the server's answer refers to forbidden global {module}.{name}"
        )


def load_pickle(data: bytes) -> Any:
    return _SafeUnpickler(io.BytesIO(data)).load()


def dump_pickle(payload: Any) -> bytes:
    return zlib.compress(pickle.dumps(payload, protocol=PICKLE_PROTOCOL))


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Transport:
    """One HTTP connection pool to ``<host>/v1/`` speaking one wire format.

    ``transport`` is handed to ``httpx.Client`` (e.g. ``httpx.MockTransport``,
    ``httpx.WSGITransport`` or a custom ``httpx.BaseTransport``).
    """

    def __init__(
        self,
        host: str,
        *,
        serializer: str = "json",
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        serializer = {"pickle": "pkl"}.get(serializer.lower(), serializer.lower())
        if serializer not in SERIALIZERS:
            raise ValueError(f"serializer must be 'json' or 'pkl', not {serializer!r}")
        self.serializer = serializer
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"host must be a URL such as http://127.0.0.1:8000, not {host!r}")
        self.host = host.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.token: str | None = None
        self.last_headers: httpx.Headers | None = None
        self._sleep = sleep
        media = PKL_TYPE if serializer == "pkl" else JSON_TYPE
        kind = "pickle" if serializer == "pkl" else "JSON"
        base = {
            "Accept": media,
            "User-Agent": f"recoapi-client/{__version__} (Python/{PYTHON}; {kind})",
        }
        self._http = httpx.Client(
            base_url=self.host + "/v1/",
            timeout=timeout,
            transport=transport,
            headers={**base, **(headers or {})},
        )

    def close(self) -> None:
        self._http.close()

    def __del__(self) -> None:
        # A forgotten client must not leak sockets (and ResourceWarnings) until exit.
        http = getattr(self, "_http", None)
        if http is not None:
            with contextlib.suppress(Exception):
                http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        timeout: float | None = None,
        auth: bool = True,
    ) -> Any:
        """Send one call (retrying as the policy says) and return the decoded answer."""
        request = self._build(method, path, params, data, timeout, auth)
        attempt = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self.retry.wait(attempt, None) if _retryable(exc, method) else None
                if delay is None:
                    raise ConnectionFailed({"error": f"{type(exc).__name__}: {exc}"}) from exc
            else:
                self.last_headers = response.headers
                if response.status_code < 400:
                    return self._decode(response)
                error = self._error(response)
                delay = self._retry_delay(attempt, error)
                if delay is None:
                    raise error
            self._sleep(delay)
            attempt += 1

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        data: Any,
        timeout: float | None,
        auth: bool,
    ) -> httpx.Request:
        if not path.endswith("/"):
            path += "/"
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        content = None
        if data:  # like xminds: None or {} sends no body
            if self.serializer == "pkl":
                content = dump_pickle(data)
                headers.update({"Content-Type": PKL_TYPE, "Content-Encoding": "deflate"})
            else:
                content = json.dumps(data).encode()
                headers["Content-Type"] = JSON_TYPE
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        return self._http.build_request(
            method,
            path,
            params=query,
            content=content,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    def _retry_delay(self, attempt: int, error: XMindsError) -> float | None:
        if error.status_code not in (429, 503):
            return None
        if error.name == "DATABASE_NOT_READY" and error.retry_after is None:
            return None
        return self.retry.wait(attempt, error.retry_after)

    def _decode(self, response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == PKL_TYPE:
            return load_pickle(response.content)
        if media == JSON_TYPE or media.endswith("+json"):
            return response.json()
        return response.text

    def _error(self, response: httpx.Response) -> XMindsError:
        try:
            body = self._decode(response)
        except (ValueError, pickle.UnpicklingError, EOFError):
            body = response.text
        status = response.status_code
        wait = parse_retry_after(response.headers.get("retry-after"))
        if isinstance(body, dict) and isinstance(body.get("error_code"), int):
            data = body.get("error_data") if isinstance(body.get("error_data"), dict) else {}
            message = body.get("message") if isinstance(body.get("message"), str) else None
            return XMindsError.from_code(
                body["error_code"], data, message=message, status_code=status, retry_after=wait
            )
        cls = _STATUS_CLASSES.get(status, ServerError)
        text = body if isinstance(body, str) else repr(body)
        message = f"HTTP {status}: {text[:200]}"
        return cls({"response": body}, message=message, status_code=status, retry_after=wait)


def _retryable(exc: httpx.TransportError, method: str) -> bool:
    """Errors before the request left are always safe to retry; the others only if idempotent."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return True
    return method.upper() in IDEMPOTENT


def _query_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_query_value(v) for v in value]
    return value
