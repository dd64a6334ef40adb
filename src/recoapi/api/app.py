"""The ASGI application: a thin, fast request pipeline around the route table.

We measured frameworks before choosing (see BENCHMARKS.md): a recommendation call is short,
so per-request overhead matters; this pipeline does only routing, auth, decoding and
encoding. Handlers are plain functions; the hot read paths run on the event loop, writes
and anything that touches the disk run in a thread pool.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

from recoapi.api.auth import bearer_token
from recoapi.api.errors import error_answer
from recoapi.api.request import Request
from recoapi.api.routing import Route, Router
from recoapi.api.state import AppState
from recoapi.api.wire import decode_request, encode_response, response_format
from recoapi.errors import ForbiddenError, MethodNotAllowed, NotFoundError, WrongData

log = logging.getLogger("recoapi.api")


class Raw:
    """A handler result sent as-is (HTML, plain JSON documents)."""

    def __init__(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.body, self.content_type, self.status = body, content_type, status


class RecoApp:
    def __init__(self, state: AppState, router: Router) -> None:
        self.state = state
        self.router = router

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        fmt = "json"
        try:
            route, params = self._route(scope)
            body = await self._read_body(receive, headers)
            payload, fmt = decode_request(
                body,
                headers.get("content-type"),
                headers.get("content-encoding"),
                max_bytes=self.state.settings.max_body_bytes,
            )
            query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            req = Request(
                scope["method"], scope["path"], params, query, headers, payload, fmt, self.state
            )
            fmt = response_format(headers.get("accept"), fmt)
            self._authorize(req, route)
            if route.inline:
                result = route.handler(req)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self.state.executor, route.handler, req)
            await self._send_result(send, result, fmt)
        except Exception as exc:  # noqa: BLE001 - the one outermost handler
            status, answer = error_answer(exc)
            fmt = response_format(headers.get("accept"), fmt)
            data, content_type = encode_response(answer, fmt)
            await _send(send, status, data, content_type)

    def _route(self, scope: dict[str, Any]) -> tuple[Route, dict[str, str]]:
        route, params, exists = self.router.match(scope["method"], scope["path"])
        if route is None:
            if exists:
                raise MethodNotAllowed(scope["method"])
            raise NotFoundError(
                "path", scope["path"], f"no endpoint at {scope['path']}", name="PATH_NOT_FOUND"
            )
        return route, params

    async def _read_body(self, receive: Any, headers: dict[str, str]) -> bytes:
        limit = self.state.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise WrongData(f"request body is larger than {limit} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise WrongData(f"request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _authorize(self, req: Request, route: Route) -> None:
        if route.auth == "none":
            return
        principal = self.state.signer.verify(bearer_token(req.headers.get("authorization")))
        req.principal = principal
        if principal.role not in route.roles:
            raise ForbiddenError(
                f"role '{principal.role}' may not call {route.method} {route.template}"
            )
        if route.auth == "db":
            req.database = self.state.bound_database(principal)

    async def _send_result(self, send: Any, result: Any, fmt: str) -> None:
        if result is None:
            await _send(send, 204, b"", None)
        elif isinstance(result, Raw):
            await _send(send, result.status, result.body, result.content_type)
        else:
            data, content_type = encode_response(result, fmt)
            await _send(send, 200, data, content_type)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.state.start()
                except Exception as exc:  # noqa: BLE001
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.state.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send(send: Any, status: int, body: bytes, content_type: str | None) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
