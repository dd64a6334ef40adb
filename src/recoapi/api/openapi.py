"""The OpenAPI description, generated from the route table so it cannot drift from it."""

from __future__ import annotations

import html
import json
from typing import Any

from recoapi import __version__
from recoapi.api.routing import Route

_AUTH = {
    "none": "no token",
    "org": "any access token",
    "db": "an access token bound to a database (log in with db_id)",
}


def _operation(route: Route) -> dict[str, Any]:
    doc = (route.handler.__doc__ or "").strip()
    summary = doc.split("\n")[0] if doc else route.handler.__name__.replace("_", " ")
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.template.strip('/').replace('/', '_')}",
        "summary": summary,
        "description": (
            f"{doc}\n\nAuth: {_AUTH[route.auth]}; roles: {', '.join(sorted(route.roles))}."
        ),
        "tags": [route.tag or route.template.split("/")[2]],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.params
        ],
        "responses": {
            "200": {
                "description": "the result, in the format named by Accept (JSON or xminds-pkl)"
            },
            "204": {"description": "done, no content"},
            "4XX": {"description": "error: {error_code, error_name, message, error_data}"},
        },
    }
    if route.auth != "none":
        operation["security"] = [{"bearer": []}]
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/xminds-pkl": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    return operation


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recoapi",
            "version": __version__,
            "description": "Self-hosted recommendation API compatible with the Crossing Minds API.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
    }


def docs_page(document: dict[str, Any]) -> str:
    """A self-contained HTML reference (no CDN: self-hosted servers are often offline)."""
    rows = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op['summary'])}</td><td>{html.escape(op['tags'][0])}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>recoapi API</title>"
        "<style>body{font-family:sans-serif;margin:2em}"
        "td{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>recoapi {html.escape(document['info']['version'])}</h1>"
        "<p>Machine-readable description: <a href='/openapi.json'>/openapi.json</a>.</p>"
        "<table><tr><th>method</th><th>path</th><th>summary</th><th>group</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def as_json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=1).encode()
