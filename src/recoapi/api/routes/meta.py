"""Service endpoints outside the reference API: health and documentation."""

from __future__ import annotations

from typing import Any

from recoapi.api.request import Request
from recoapi.api.routing import ALL_ROLES, Route


def healthz(req: Request) -> dict[str, Any]:
    """Liveness and readiness: 200 once the server can serve."""
    return {"status": "ok", "store": req.state.store.name}


def routes() -> list[Route]:
    return [
        Route("GET", "/healthz", healthz, auth="none", roles=ALL_ROLES, inline=True, tag="service")
    ]
