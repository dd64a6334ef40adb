"""Ratings, interactions and anonymous sessions (ENDPOINTS.md §9.6-9.7).

Listings come back as structured arrays whatever the wire format: ``user_ratings`` has
``item_id`` (the database's id dtype), ``rating`` (``float32``) and ``timestamp``
(``float64``); interactions add ``interaction_type`` and, when present, ``properties``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from recoapi.client._arrays import rows_to_array
from recoapi.client._core import ClientCore, drop_none

RATING_FIELDS = [("item_id", None), ("rating", np.float32), ("timestamp", np.float64)]
INTERACTION_FIELDS = [
    ("item_id", None),
    ("interaction_type", None),
    ("timestamp", np.float64),
    ("properties", object),
]


class EventsMixin(ClientCore):
    # --- ratings -------------------------------------------------------------------------------

    def create_or_update_rating(
        self, user_id: Any, item_id: Any, rating: float, timestamp: float | None = None
    ) -> None:
        """Rate one item (1 to 10) for one user; overwrites an earlier rating of the pair.

        Pass ``AUTO_FRONTEND_ID`` as ``user_id`` with a frontend token.
        """
        path = f"users/{self._path_id(user_id, 'user')}/ratings/{self._path_id(item_id, 'item')}/"
        self._call("PUT", path, data={"rating": float(rating), **drop_none(timestamp=timestamp)})

    def create_or_update_user_ratings_bulk(self, user_id: Any, ratings: Any) -> None:
        """Many ratings of one user: rows with ``item_id``, ``rating`` and ``timestamp``?."""
        path = f"users/{self._path_id(user_id, 'user')}/ratings/"
        self._call("PUT", path, data={"ratings": ratings}, timeout=self.bulk_timeout)

    def create_or_update_ratings_bulk(self, ratings: Any, chunk_size: int = 1 << 14) -> None:
        """Many users' ratings: rows with ``user_id``, ``item_id``, ``rating`` (1-10) and
        optional ``timestamp`` (Unix seconds), sent in chunks back to back."""
        self._upload("ratings-bulk/", "PUT", "ratings", ratings, chunk_size)

    def list_user_ratings(
        self, user_id: Any, amt: int | None = None, page: int | None = None
    ) -> dict[str, Any]:
        """One page (at most 64) of a user's ratings.

        :returns: ``{'user_ratings': structured array (item_id, rating, timestamp),
            'has_next': bool, 'next_page': int | None}``
        """
        path = f"users/{self._path_id(user_id, 'user')}/ratings/"
        answer = dict(self._call("GET", path, params=drop_none(amt=amt, page=page or None)))
        answer["user_ratings"] = rows_to_array(
            answer.get("user_ratings"), RATING_FIELDS, self._id_types()
        )
        return answer

    def list_all_user_ratings(self, user_id: Any) -> np.ndarray:
        """Every rating of a user (all pages), as one structured array."""
        parts: list[np.ndarray] = []
        page: int | None = 1
        while page:
            answer = self.list_user_ratings(user_id, amt=64, page=page)
            parts.append(answer["user_ratings"])
            page = answer.get("next_page") if answer.get("has_next") else None
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def list_ratings(self, amt: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """One page of the database's ratings.

        :returns: ``{'ratings': structured array (user_id, item_id, rating, timestamp),
            'has_next', 'next_cursor'}``
        """
        answer = dict(
            self._call("GET", "ratings-bulk/", params=drop_none(amt=amt, cursor=cursor or None))
        )
        fields = [("user_id", None), *RATING_FIELDS]
        answer["ratings"] = rows_to_array(answer.get("ratings"), fields, self._id_types())
        return answer

    def delete_rating(self, user_id: Any, item_id: Any) -> None:
        """:raises NotFoundError: ``USER_RATING_NOT_FOUND``"""
        path = f"users/{self._path_id(user_id, 'user')}/ratings/{self._path_id(item_id, 'item')}/"
        self._call("DELETE", path)

    def delete_user_ratings(self, user_id: Any) -> None:
        self._call("DELETE", f"users/{self._path_id(user_id, 'user')}/ratings/")

    # --- user interactions ---------------------------------------------------------------------

    def create_interaction(
        self,
        user_id: Any,
        item_id: Any,
        interaction_type: str,
        timestamp: float | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one interaction (``productView``, ``like`` ...); the user's profile follows.

        :returns: ``{'warnings': [str]}``
        """
        path = (
            f"users/{self._path_id(user_id, 'user')}/interactions/{self._path_id(item_id, 'item')}/"
        )
        data = {
            "interaction_type": interaction_type,
            **drop_none(timestamp=timestamp, properties=properties),
        }
        return dict(self._call("POST", path, data=data) or {})

    def create_interactions_bulk(
        self, interactions: Any, chunk_size: int = 1 << 14
    ) -> dict[str, Any]:
        """Many users' interactions: rows with ``user_id``, ``item_id``, ``interaction_type``,
        ``timestamp`` and optional ``properties``. :returns: ``{'warnings': [str]}``"""
        return self._upload("interactions-bulk/", "POST", "interactions", interactions, chunk_size)

    def create_user_interactions_bulk(self, user_id: Any, interactions: Any) -> dict[str, Any]:
        """Many interactions of one user (rows without ``user_id``)."""
        path = f"users/{self._path_id(user_id, 'user')}/interactions-bulk/"
        return dict(
            self._call("POST", path, data={"interactions": interactions}, timeout=self.bulk_timeout)
            or {}
        )

    def list_interactions(
        self,
        amt: int | None = None,
        cursor: str | None = None,
        start_timestamp: float | None = None,
        end_timestamp: float | None = None,
    ) -> dict[str, Any]:
        """One page of user interactions, optionally within ``[start, end)``.

        :returns: ``{'interactions': structured array, 'has_next', 'next_cursor'}``
        """
        params = drop_none(
            amt=amt,
            cursor=cursor or None,
            start_timestamp=start_timestamp,
            end_timestamp=end_timestamp,
        )
        return self._interactions("interactions-bulk/", params, "user_id")

    def list_user_interactions(
        self,
        user_id: Any,
        amt: int | None = None,
        cursor: str | None = None,
        interaction_types: list[str] | None = None,
    ) -> dict[str, Any]:
        """One page of a user's interactions, optionally of some types only."""
        params = drop_none(
            amt=amt, cursor=cursor or None, interaction_types=interaction_types or None
        )
        return self._interactions(
            f"users/{self._path_id(user_id, 'user')}/interactions-bulk/", params, None
        )

    # --- anonymous sessions --------------------------------------------------------------------

    def create_session_interaction(
        self,
        session_id: Any,
        item_id: Any,
        interaction_type: str,
        timestamp: float | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one interaction of an anonymous session. :returns: ``{'warnings': [str]}``"""
        path = (
            f"sessions/{self._path_id(session_id, 'session')}/items/"
            f"{self._path_id(item_id, 'item')}/interactions/"
        )
        data = {
            "interaction_type": interaction_type,
            **drop_none(timestamp=timestamp, properties=properties),
        }
        return dict(self._call("POST", path, data=data) or {})

    def create_sessions_interactions_bulk(
        self, interactions: Any, chunk_size: int = 1 << 14
    ) -> dict[str, Any]:
        """Many sessions' interactions: rows with ``session_id``, ``item_id``, ``interaction_type``,
        ``timestamp``. :returns: ``{'warnings': [str]}``"""
        return self._upload(
            "sessions-interactions-bulk/", "POST", "interactions", interactions, chunk_size
        )

    def create_session_interactions_bulk(
        self, session_id: Any, interactions: Any
    ) -> dict[str, Any]:
        """Many interactions of one session (rows without ``session_id``)."""
        path = f"sessions/{self._path_id(session_id, 'session')}/interactions-bulk/"
        return dict(
            self._call("POST", path, data={"interactions": interactions}, timeout=self.bulk_timeout)
            or {}
        )

    def list_sessions_interactions(
        self,
        amt: int | None = None,
        cursor: str | None = None,
        start_timestamp: float | None = None,
        end_timestamp: float | None = None,
    ) -> dict[str, Any]:
        """One page of all sessions' interactions (with ``session_id``)."""
        params = drop_none(
            amt=amt,
            cursor=cursor or None,
            start_timestamp=start_timestamp,
            end_timestamp=end_timestamp,
        )
        return self._interactions("sessions-interactions-bulk/", params, "session_id")

    def list_session_interactions(
        self, session_id: Any, amt: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of one session's interactions."""
        path = f"sessions/{self._path_id(session_id, 'session')}/interactions-bulk/"
        return self._interactions(path, drop_none(amt=amt, cursor=cursor or None), None)

    def resolve_session(
        self, user_id: Any, session_id: Any, timestamp: float | None = None
    ) -> None:
        """Attach an anonymous session to a user (a user may own many sessions)."""
        path = f"sessions/{self._path_id(session_id, 'session')}/resolve/"
        self._call(
            "POST",
            path,
            data={"user_id": self._body_id(user_id, "user"), **drop_none(timestamp=timestamp)},
        )

    def list_resolved_sessions_by_users(
        self,
        users_id: Iterable[Any] | None = None,
        amt: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Sessions resolved to users. :returns: ``{'resolved_sessions': structured array
        (session_id, user_id, timestamp), 'has_next', 'next_cursor'}``"""
        ids = (
            None
            if users_id is None
            else self._body_ids(
                users_id if isinstance(users_id, np.ndarray) else list(users_id), "user"
            )
        )
        answer = dict(
            self._call(
                "POST", "resolved-sessions/", data=drop_none(users_id=ids, amt=amt, cursor=cursor)
            )
        )
        fields = [("session_id", None), ("user_id", None), ("timestamp", np.float64)]
        answer["resolved_sessions"] = rows_to_array(
            answer.get("resolved_sessions"), fields, self._id_types()
        )
        return answer

    # --- helpers -------------------------------------------------------------------------------

    def _upload(
        self, path: str, method: str, key: str, rows: Any, chunk_size: int
    ) -> dict[str, Any]:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        rows = rows if isinstance(rows, np.ndarray) else list(rows)
        warnings: list[Any] = []
        with self._bar(
            len(rows), f"uploading {key}", f" {key}", show=len(rows) > chunk_size
        ) as bar:
            for start in range(0, len(rows), chunk_size):
                part = rows[start : start + chunk_size]
                answer = self._call(method, path, data={key: part}, timeout=self.bulk_timeout)
                warnings += (answer or {}).get("warnings") or []
                bar.update(len(part))
        return {"warnings": warnings}

    def _interactions(
        self, path: str, params: dict[str, Any], subject: str | None
    ) -> dict[str, Any]:
        answer = dict(self._call("GET", path, params=params))
        fields = ([(subject, None)] if subject else []) + INTERACTION_FIELDS
        answer["interactions"] = rows_to_array(answer.get("interactions"), fields, self._id_types())
        return answer
