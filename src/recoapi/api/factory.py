"""``create_app(settings, store=None)``: wire store, engine and routes into one ASGI app."""

from __future__ import annotations

from typing import Any

from recoapi.api.app import Raw, RecoApp
from recoapi.api.openapi import as_json_bytes, docs_page, openapi_document
from recoapi.api.request import Request
from recoapi.api.routes import (
    accounts,
    databases,
    entities,
    interactions,
    meta,
    properties,
    ratings,
    recommend,
    scenarios,
    tasks,
)
from recoapi.api.routing import ALL_ROLES, Route, Router
from recoapi.api.state import AppState
from recoapi.config import Settings
from recoapi.engine.runtime import EngineManager
from recoapi.store import open_store
from recoapi.store.base import Store

MODULES = (
    meta,
    accounts,
    databases,
    properties,
    entities,
    ratings,
    interactions,
    recommend,
    tasks,
    scenarios,
)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        for route in module.routes():
            router.add(route)
    document = openapi_document(router.routes)
    spec, page = as_json_bytes(document), docs_page(document).encode()

    def openapi_json(req: Request) -> Any:
        """This API's OpenAPI 3.1 description."""
        return Raw(spec, "application/json")

    def docs(req: Request) -> Any:
        """A browsable list of every endpoint."""
        return Raw(page, "text/html; charset=utf-8")

    for template, handler in (("/openapi.json", openapi_json), ("/docs", docs)):
        router.add(
            Route(
                "GET", template, handler, auth="none", roles=ALL_ROLES, inline=True, tag="service"
            )
        )
    return router


def create_app(settings: Settings, store: Store | None = None) -> RecoApp:
    store = store or open_store(settings)
    engine = EngineManager(
        store,
        settings.models_dir,
        debounce=settings.train_debounce_seconds,
        min_new_events=settings.train_min_new_events,
    )
    return RecoApp(AppState(settings, store, engine), build_router())
