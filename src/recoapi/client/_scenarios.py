"""Scenarios: named business rules for a reco type (ENDPOINTS.md §6, §9.10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recoapi.client._core import ClientCore


class ScenariosMixin(ClientCore):
    def list_scenarios(self) -> dict[str, Any]:
        """:returns: ``{'scenarios': [{'name', 'reco_type', 'scenario'}]}``"""
        return dict(self._call("GET", "scenarios/"))

    def get_scenario(self, reco_type: str, name: str) -> dict[str, Any]:
        """:returns: ``{'name', 'reco_type', 'scenario'}``; :raises NotFoundError:"""
        return dict(
            self._call("GET", f"scenarios/{self.escape_url(reco_type)}/{self.escape_url(name)}/")
        )

    def create_or_replace_scenario(
        self, reco_type: str, name: str, scenario: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Store business rules for a reco type (``item_to_items``, ``profile_to_items`` ...).

        ``scenario`` is ``{'scenario_type': 'case' | 'ab_test' | 'condition', <type>: {...}}``,
        e.g. ``{'scenario_type': 'case', 'case': {'filters': [...], 'reranking': [...]}}``.
        """
        path = f"scenarios/{self.escape_url(reco_type)}/{self.escape_url(name)}/"
        return dict(self._call("PUT", path, data=dict(scenario)) or {})

    def delete_scenario(self, reco_type: str, name: str) -> None:
        self._call("DELETE", f"scenarios/{self.escape_url(reco_type)}/{self.escape_url(name)}/")

    def get_default_scenario(self, reco_type: str) -> dict[str, Any]:
        """:returns: ``{'name'}``; :raises NotFoundError: if there is none"""
        return dict(self._call("GET", f"scenarios-default/{self.escape_url(reco_type)}/"))

    def set_default_scenario(self, reco_type: str, name: str) -> None:
        self._call("PATCH", f"scenarios-default/{self.escape_url(reco_type)}/", data={"name": name})

    def unset_default_scenario(self, reco_type: str) -> None:
        self._call("DELETE", f"scenarios-default/{self.escape_url(reco_type)}/")
