"""Scenarios: named rule sets applied to recommendations (ENDPOINTS.md §9.10, §6).

Only ``case`` scenarios change a recommendation (their filters, reranking and
exclude_rated_items are added to the request's); ``ab_test`` and ``condition`` scenarios
are stored and validated so clients can manage them, and are documented as not applied.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from recoapi.api.request import Request
from recoapi.api.routing import Route
from recoapi.api.util import plain_json
from recoapi.core.filters import parse_filters, parse_reranking
from recoapi.errors import NotFoundError, WrongData

RECO_TYPES = {
    "item_to_items",
    "profile_to_items",
    "session_to_items",
    "profile_to_item_properties",
    "session_to_item_properties",
    "profile_to_items_w_ctx_items",
    "session_to_items_w_ctx_items",
}
SCENARIO_TYPES = {
    "case": (),
    "ab_test": ("scenario_a", "scenario_b"),
    "condition": ("then", "else"),
}


def _reco_type(req: Request) -> str:
    reco_type = unquote(req.params["reco_type"])
    if reco_type not in RECO_TYPES:
        raise WrongData(
            f"unknown reco_type '{reco_type}'; one of {', '.join(sorted(RECO_TYPES))}",
            field="reco_type",
        )
    return reco_type


def _validated(req: Request, reco_type: str) -> dict[str, Any]:
    body = plain_json(dict(req.payload), "scenario")
    kind = body.get("scenario_type")
    if (
        not isinstance(kind, str)
        or kind not in SCENARIO_TYPES
        or not isinstance(body.get(kind), dict)
    ):
        raise WrongData(
            "a scenario needs 'scenario_type' (case, ab_test or condition) and an object "
            "under that key",
            field="scenario_type",
        )
    rules = body[kind]
    if kind == "case":
        parse_filters(rules.get("filters"))
        parse_reranking(rules.get("reranking"))
    for ref in SCENARIO_TYPES[kind]:
        name = rules.get(ref)
        if (
            not isinstance(name, str)
            or req.state.store.get_scenario(req.db.n, reco_type, name) is None
        ):
            raise NotFoundError("scenario", name)
    return body


def create_or_replace_scenario(req: Request) -> dict[str, Any]:
    reco_type = _reco_type(req)
    body = _validated(req, reco_type)
    name = unquote(req.params["name"])
    old = req.state.store.get_scenario(req.db.n, reco_type, name)
    if old is not None and old.get("scenario_type") != "case":
        raise WrongData(
            "only 'case' scenarios can be replaced; delete this one first", field="scenario_type"
        )
    req.state.store.save_scenario(req.db.n, reco_type, name, body)
    warnings = (
        []
        if body["scenario_type"] == "case"
        else ["ab_test and condition scenarios are stored but not applied by recoapi"]
    )
    return {"warnings": warnings}


def get_scenario(req: Request) -> dict[str, Any]:
    reco_type, name = _reco_type(req), unquote(req.params["name"])
    found = req.state.store.get_scenario(req.db.n, reco_type, name)
    if found is None:
        raise NotFoundError("scenario", name)
    return {"name": name, "reco_type": reco_type, "scenario": found}


def list_scenarios(req: Request) -> dict[str, Any]:
    return {
        "scenarios": [
            {"name": name, "reco_type": reco_type, "scenario": body}
            for reco_type, name, body in req.state.store.list_scenarios(req.db.n)
        ]
    }


def delete_scenario(req: Request) -> None:
    if not req.state.store.delete_scenario(req.db.n, _reco_type(req), unquote(req.params["name"])):
        raise NotFoundError("scenario", req.params["name"])


def get_default_scenario(req: Request) -> dict[str, Any]:
    name = req.state.store.get_default_scenario(req.db.n, _reco_type(req))
    if name is None:
        raise NotFoundError("default_scenario", req.params["reco_type"])
    return {"name": name}


def set_default_scenario(req: Request) -> None:
    reco_type, name = _reco_type(req), req.body_str("name")
    if req.state.store.get_scenario(req.db.n, reco_type, name) is None:
        raise NotFoundError("scenario", name)
    req.state.store.set_default_scenario(req.db.n, reco_type, name)


def unset_default_scenario(req: Request) -> None:
    req.state.store.set_default_scenario(req.db.n, _reco_type(req), None)


def routes() -> list[Route]:
    one = "/v1/scenarios/{reco_type}/{name}/"
    default = "/v1/scenarios-default/{reco_type}/"
    return [
        Route("GET", "/v1/scenarios/", list_scenarios, tag="scenarios"),
        Route("GET", one, get_scenario, tag="scenarios"),
        Route("PUT", one, create_or_replace_scenario, tag="scenarios"),
        Route("DELETE", one, delete_scenario, tag="scenarios"),
        Route("GET", default, get_default_scenario, tag="scenarios"),
        Route("PATCH", default, set_default_scenario, tag="scenarios"),
        Route("DELETE", default, unset_default_scenario, tag="scenarios"),
    ]
