"""A small router: path templates to compiled patterns, with and without trailing slash.

The reference client always adds a trailing slash and must never be redirected (a redirect
drops the body), so every template matches both spellings. Lookup first narrows candidates
by the first path segment so the hot recommendation routes do not scan the whole table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[..., Any]

_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Route:
    """One endpoint. ``auth`` is ``none``, ``org`` (any token) or ``db`` (a database bound)."""

    method: str
    template: str
    handler: Handler
    auth: str = "db"
    roles: frozenset[str] = frozenset({"root", "manager", "backend"})
    inline: bool = False  # run on the event loop: only for short, non-blocking handlers
    tag: str = ""
    summary: str = ""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pieces = _PARAM.split(self.template.rstrip("/"))
        body = "".join(
            f"(?P<{piece}>[^/]+)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        )
        object.__setattr__(self, "pattern", re.compile(f"^{body}/?$"))

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.template)


ALL_ROLES = frozenset({"root", "manager", "backend", "frontend"})
ADMIN_ROLES = frozenset({"root", "manager"})
BACKEND_ROLES = frozenset({"root", "manager", "backend"})


def _bucket(path: str) -> str:
    parts = path.split("/", 3)  # '', 'v1', first, rest
    return parts[2] if len(parts) > 2 else ""


class Router:
    """Finds the route for a method and path; tells 404 from 405 apart."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._buckets: dict[str, list[Route]] = {}

    def add(self, route: Route) -> None:
        self.routes.append(route)
        first = _bucket(route.template)
        if first.startswith("{"):
            first = "*"
        self._buckets.setdefault(first, []).append(route)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return (route, path params, path_exists). ``path_exists`` without a route means 405."""
        candidates = self._buckets.get(_bucket(path), []) + self._buckets.get("*", [])
        path_exists = False
        for route in candidates:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict(), True
            path_exists = True
        return None, {}, path_exists
