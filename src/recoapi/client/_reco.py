"""Recommendations (ENDPOINTS.md §9.8).

Every ``get_reco_*_to_items`` call returns ``{'items_id': ndarray, 'next_cursor': str,
'evaluated_scenarios': dict, 'warnings': [str]}`` with ``items_id`` best first, in the
database's item id dtype (e.g. ``uint32``) for both wire formats.

``filters`` are strings ``"prop:op[:value]"`` or dicts ``{'property_name', 'op', 'value'?}``;
``reranking`` entries are strings ``"prop:diversity:[weight][:key:value...]"`` or dicts
``{'property_name', 'op', 'weight'?, 'options'?}``. Session ``ratings`` may be given as a
plain ``{item_id: rating}`` mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from recoapi.client._arrays import (
    filters_to_query,
    id_dtype,
    id_to_path,
    ids_from_wire,
    reranking_to_query,
)
from recoapi.client._core import ClientCore, drop_none

Filters = list[Any] | None


class RecoMixin(ClientCore):
    # --- by id (GET) ---------------------------------------------------------------------------

    def get_reco_item_to_items(
        self,
        item_id: Any,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        skip_default_scenario: bool | None = None,
        user_id: Any = None,
        session_id: Any = None,
    ) -> dict[str, Any]:
        """Items similar to one item. ``user_id``/``session_id`` only pick an A/B test group."""
        params = self._reco_params(amt, cursor, scenario, filters, reranking, skip_default_scenario)
        params.update(self._ab_ids(user_id, session_id))
        return self._items(
            self._call(
                "GET",
                f"recommendation/items/{self._path_id(item_id, 'item')}/items/",
                params=params,
            )
        )

    def get_reco_user_to_items(
        self,
        user_id: Any,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        exclude_rated_items: bool | None = None,
        skip_default_scenario: bool | None = None,
    ) -> dict[str, Any]:
        """Items for a user, from their ratings and interactions (rated items are excluded)."""
        params = self._reco_params(amt, cursor, scenario, filters, reranking, skip_default_scenario)
        params.update(drop_none(exclude_rated_items=exclude_rated_items))
        return self._items(
            self._call(
                "GET",
                f"recommendation/users/{self._path_id(user_id, 'user')}/items/",
                params=params,
            )
        )

    def get_precomputed_reco_item_to_items(
        self,
        item_id: Any,
        table: str | None = None,
        scenario: str | None = None,
        skip_default_scenario: bool | None = None,
        user_id: Any = None,
        session_id: Any = None,
    ) -> dict[str, Any]:
        """As ``get_reco_item_to_items`` (computed live). :returns: ``{'items_id'}``"""
        params = drop_none(
            table=table or None,
            scenario=scenario or None,
            skip_default_scenario=skip_default_scenario,
            **self._ab_ids(user_id, session_id),
        )
        path = f"recommendation/precomputed/items/{self._path_id(item_id, 'item')}/items/"
        return self._items(self._call("GET", path, params=params))

    def get_precomputed_reco_user_to_items(
        self,
        user_id: Any,
        table: str | None = None,
        scenario: str | None = None,
        skip_default_scenario: bool | None = None,
    ) -> dict[str, Any]:
        """As ``get_reco_user_to_items`` (computed live). :returns: ``{'items_id'}``"""
        params = drop_none(
            table=table or None,
            scenario=scenario or None,
            skip_default_scenario=skip_default_scenario,
        )
        path = f"recommendation/precomputed/users/{self._path_id(user_id, 'user')}/items/"
        return self._items(self._call("GET", path, params=params))

    def get_reco_user_to_item_properties(
        self,
        user_id: Any,
        item_property_name: str,
        amt: int | None = None,
        skip_default_scenario: bool | None = None,
        filters: Filters = None,
        scenario: str | None = None,
    ) -> dict[str, Any]:
        """The values of an item property (e.g. genres) a user is most likely to enjoy.

        :returns: ``{'properties': ndarray of at most ``amt`` (default 16) values}``
        """
        params = self._reco_params(amt, None, scenario, filters, None, skip_default_scenario)
        path = (
            f"recommendation/users/{self._path_id(user_id, 'user')}/items-properties/"
            f"{self.escape_url(item_property_name)}/"
        )
        return _properties(self._call("GET", path, params=params))

    # --- by profile (POST) ---------------------------------------------------------------------

    def get_reco_session_to_items(
        self,
        ratings: Any = None,
        interactions: Any = None,
        user_properties: Mapping[str, Any] | None = None,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        exclude_rated_items: bool | None = None,
        skip_default_scenario: bool | None = None,
        user_id: Any = None,
        session_id: Any = None,
    ) -> dict[str, Any]:
        """Items for an anonymous session; nothing is stored.

        :param ratings: rows ``(item_id, rating)`` or a ``{item_id: rating}`` mapping
        :param interactions: rows ``(item_id, interaction_type, timestamp?)``; not with ``ratings``
        """
        data = self._session_body(ratings, interactions, user_properties, user_id, session_id)
        data.update(
            self._reco_body(
                amt,
                cursor,
                scenario,
                filters,
                reranking,
                skip_default_scenario,
                exclude_rated_items,
            )
        )
        return self._items(self._call("POST", "recommendation/sessions/items/", data=data))

    def get_reco_session_to_items_w_ctx_items(
        self,
        context_items: Any,
        ratings: Any = None,
        user_properties: Mapping[str, Any] | None = None,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        exclude_rated_items: bool | None = None,
        skip_default_scenario: bool | None = None,
        user_id: Any = None,
        session_id: Any = None,
        interactions: Any = None,
    ) -> dict[str, Any]:
        """Items for an anonymous session in the context of some items (e.g. the cart)."""
        data = {
            "context_items": self._id_rows(context_items, "item"),
            **self._session_body(ratings, interactions, user_properties, user_id, session_id),
        }
        data.update(
            self._reco_body(
                amt,
                cursor,
                scenario,
                filters,
                reranking,
                skip_default_scenario,
                exclude_rated_items,
            )
        )
        return self._items(
            self._call("POST", "recommendation/context-items/sessions/items/", data=data)
        )

    def get_reco_user_to_items_w_ctx_items(
        self,
        context_items: Any,
        user_id: Any,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        exclude_rated_items: bool | None = None,
        skip_default_scenario: bool | None = None,
    ) -> dict[str, Any]:
        """Items for a user in the context of some items."""
        data = {
            "context_items": self._id_rows(context_items, "item"),
            **self._reco_body(
                amt,
                cursor,
                scenario,
                filters,
                reranking,
                skip_default_scenario,
                exclude_rated_items,
            ),
        }
        path = f"recommendation/context-items/users/{self._path_id(user_id, 'user')}/items/"
        return self._items(self._call("POST", path, data=data))

    def get_reco_users_group_to_items(
        self,
        users: Any,
        consensus_factor: float | None = None,
        amt: int | None = None,
        cursor: str | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        skip_default_scenario: bool | None = None,
    ) -> dict[str, Any]:
        """Items for a group of users (rows with ``user_id``, or a plain list of ids)."""
        data = {
            "users": self._id_rows(users, "user"),
            **drop_none(consensus_factor=consensus_factor or None),
            **self._reco_body(
                amt, cursor, scenario, filters, reranking, skip_default_scenario, None
            ),
        }
        return self._items(self._call("POST", "recommendation/users-groups/items/", data=data))

    def get_reco_generic_to_items(
        self,
        user_id: Any = None,
        item_id: Any = None,
        session_id: Any = None,
        scenario: str | None = None,
        skip_default_scenario: bool | None = None,
        cursor: str | None = None,
        amt: int | None = None,
        interactions: Any = None,
        ratings: Any = None,
        user_properties: Mapping[str, Any] | None = None,
        item_properties: Mapping[str, Any] | None = None,
        context_items: Any = None,
        filters: Filters = None,
        reranking: Filters = None,
        exclude_rated_items: bool | None = None,
        table: str | None = None,
    ) -> dict[str, Any]:
        """Items from whatever is given: an item (similar items), a user, or a session profile."""
        data = drop_none(
            item_id=None if item_id is None else self._body_id(item_id, "item"),
            user_id=None if user_id is None else self._body_id(user_id, "user"),
            session_id=None if session_id is None else self._body_id(session_id, "session"),
            ratings=None if ratings is None else self._session_ratings(ratings),
            interactions=interactions,
            user_properties=user_properties,
            item_properties=item_properties,
            context_items=None if context_items is None else self._id_rows(context_items, "item"),
            table=table or None,
        )
        data.update(
            self._reco_body(
                amt,
                cursor,
                scenario,
                filters,
                reranking,
                skip_default_scenario,
                exclude_rated_items,
            )
        )
        return self._items(self._call("POST", "recommendation/generic/items/", data=data))

    def get_reco_item_properties_to_items(
        self,
        item_properties: Mapping[str, Any],
        amt: int | None = None,
        scenario: str | None = None,
        filters: Filters = None,
        reranking: Filters = None,
        skip_default_scenario: bool | None = None,
    ) -> dict[str, Any]:
        """Items similar to a description by property values (not supported by recoapi servers)."""
        data = {
            "item_properties": dict(item_properties),
            **self._reco_body(amt, None, scenario, filters, reranking, skip_default_scenario, None),
        }
        return self._items(self._call("POST", "recommendation/items-properties/items/", data=data))

    def get_reco_session_to_item_properties(
        self,
        item_property_name: str,
        ratings: Any = None,
        interactions: Any = None,
        user_properties: Mapping[str, Any] | None = None,
        user_id: Any = None,
        amt: int | None = None,
        skip_default_scenario: bool | None = None,
        filters: Filters = None,
        scenario: str | None = None,
        session_id: Any = None,
    ) -> dict[str, Any]:
        """The values of an item property an anonymous session is most likely to enjoy."""
        data = self._session_body(ratings, interactions, user_properties, user_id, session_id)
        data.update(
            drop_none(
                amt=amt,
                skip_default_scenario=skip_default_scenario,
                scenario=scenario or None,
                filters=filters_to_query(filters) if filters else None,
            )
        )
        path = f"recommendation/sessions/items-properties/{self.escape_url(item_property_name)}/"
        return _properties(self._call("POST", path, data=data))

    # --- helpers -------------------------------------------------------------------------------

    def _items(self, answer: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(answer)
        out["items_id"] = ids_from_wire(answer.get("items_id"), self._id_type("item"))
        return out

    @staticmethod
    def _reco_params(
        amt: int | None,
        cursor: str | None,
        scenario: str | None,
        filters: Filters,
        reranking: Filters,
        skip_default_scenario: bool | None,
    ) -> dict[str, Any]:
        return drop_none(
            amt=amt,
            cursor=cursor or None,
            scenario=scenario or None,
            filters=filters_to_query(filters) if filters else None,
            reranking=reranking_to_query(reranking) if reranking else None,
            skip_default_scenario=skip_default_scenario,
        )

    @staticmethod
    def _reco_body(
        amt: int | None,
        cursor: str | None,
        scenario: str | None,
        filters: Filters,
        reranking: Filters,
        skip_default_scenario: bool | None,
        exclude_rated_items: bool | None,
    ) -> dict[str, Any]:
        return drop_none(
            amt=amt,
            cursor=cursor or None,
            scenario=scenario or None,
            filters=filters or None,
            reranking=reranking or None,
            skip_default_scenario=skip_default_scenario,
            exclude_rated_items=exclude_rated_items,
        )

    def _ab_ids(self, user_id: Any, session_id: Any) -> dict[str, str]:
        out = {}
        if user_id is not None:
            out["user_id"] = id_to_path(user_id, self._id_type("user"))
        if session_id is not None:
            out["session_id"] = id_to_path(session_id, self._id_type("session"))
        return out

    def _session_body(
        self,
        ratings: Any,
        interactions: Any,
        user_properties: Mapping[str, Any] | None,
        user_id: Any,
        session_id: Any,
    ) -> dict[str, Any]:
        return drop_none(
            ratings=None if ratings is None else self._session_ratings(ratings),
            interactions=interactions,
            user_properties=user_properties or None,
            user_id=None if user_id is None else self._body_id(user_id, "user"),
            session_id=None if session_id is None else self._body_id(session_id, "session"),
        )

    def _session_ratings(self, ratings: Any) -> Any:
        """``{item_id: rating}`` as a structured array; rows are passed on as given."""
        if not isinstance(ratings, Mapping):
            return ratings
        out = np.empty(
            len(ratings),
            dtype=[("item_id", id_dtype(self._id_type("item"))), ("rating", np.float32)],
        )
        out["item_id"] = list(ratings.keys())
        out["rating"] = list(ratings.values())
        return out

    def _id_rows(self, ids: Any, entity: str) -> Any:
        """Rows with ``<entity>_id``: structured arrays and dicts as given, plain ids wrapped."""
        if isinstance(ids, np.ndarray) and ids.dtype.names:
            return ids
        values = list(ids.tolist() if isinstance(ids, np.ndarray) else ids)
        if values and all(isinstance(v, Mapping) for v in values):
            return values
        out = np.empty(len(values), dtype=[(f"{entity}_id", id_dtype(self._id_type(entity)))])
        out[f"{entity}_id"] = values
        return out


def _properties(answer: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(answer)
    out["properties"] = np.asarray(
        answer.get("properties") if answer.get("properties") is not None else []
    )
    return out
