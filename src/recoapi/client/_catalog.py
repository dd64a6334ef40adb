"""Item and user properties: schemas, single entities and bulk data (ENDPOINTS.md §9.4-9.5).

Items and users behave the same; each public method is a thin, documented wrapper around
one generic implementation taking the entity name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from recoapi.client._arrays import (
    b64_decode,
    chunk_rows,
    filters_to_query,
    m2m_as_list,
    m2m_from_wire,
    rows_to_array,
)
from recoapi.client._core import ClientCore, drop_none

M2M = list[dict[str, Any]] | Mapping[str, Any]
"""Repeated values: ``[{'name': prop, 'array': [(<entity>_index, value_id), ...]}]``
or ``{prop: array}``."""


class CatalogMixin(ClientCore):
    # --- property schemas ----------------------------------------------------------------------

    def create_item_property(
        self, property_name: str, value_type: str, repeated: bool = False
    ) -> None:
        """Declare an item property.

        :param value_type: ``int8``..``uint64``, ``float16/32/64``, ``bool``, ``unicode<N>``,
            ``bytes<N>``
        :param repeated: the property holds a list of values
        :raises DuplicatedError: if it exists
        """
        self._create_property(
            "item", {"property_name": property_name, "value_type": value_type, "repeated": repeated}
        )

    def create_user_property(
        self, property_name: str, value_type: str, repeated: bool = False, indexed: bool = False
    ) -> None:
        """Declare a user property (``indexed`` makes it usable in filters)."""
        self._create_property(
            "user",
            {
                "property_name": property_name,
                "value_type": value_type,
                "repeated": repeated,
                "indexed": indexed,
            },
        )

    def get_item_property(self, property_name: str) -> dict[str, Any]:
        """:returns: ``{'property_name', 'value_type', 'repeated'}``"""
        return dict(self._call("GET", f"items-properties/{self.escape_url(property_name)}/"))

    def get_user_property(self, property_name: str) -> dict[str, Any]:
        """:returns: ``{'property_name', 'value_type', 'repeated', 'indexed'}``"""
        return dict(self._call("GET", f"users-properties/{self.escape_url(property_name)}/"))

    def list_item_properties(self) -> dict[str, Any]:
        """:returns: ``{'properties': [{'property_name', 'value_type', 'repeated'}]}``"""
        return dict(self._call("GET", "items-properties/"))

    def list_user_properties(self) -> dict[str, Any]:
        """:returns: ``{'properties': [{'property_name', 'value_type', 'repeated', 'indexed'}]}``"""
        return dict(self._call("GET", "users-properties/"))

    def delete_item_property(self, property_name: str) -> None:
        self._schemas.pop("item", None)
        self._call("DELETE", f"items-properties/{self.escape_url(property_name)}/")

    def delete_user_property(self, property_name: str) -> None:
        self._schemas.pop("user", None)
        self._call("DELETE", f"users-properties/{self.escape_url(property_name)}/")

    def _create_property(self, entity: str, data: dict[str, Any]) -> None:
        self._schemas.pop(entity, None)
        self._call("POST", f"{entity}s-properties/", data=data)

    # --- one item / user -----------------------------------------------------------------------

    def get_item(self, item_id: Any) -> dict[str, Any]:
        """:returns: ``{'item': {'item_id': id, <property>: value or list}}``"""
        return self._get_one("item", item_id)

    def get_user(self, user_id: Any) -> dict[str, Any]:
        """:returns: ``{'user': {'user_id': id, <property>: value or list}}``"""
        return self._get_one("user", user_id)

    def create_or_replace_item(
        self, item: Mapping[str, Any], wait_for_completion: bool | None = None
    ) -> None:
        """Create an item, or replace all its properties: ``{'item_id': id, <property>: value}``."""
        self._put_one("item", item, "PUT", drop_none(wait_for_completion=wait_for_completion))

    def create_or_replace_user(self, user: Mapping[str, Any]) -> None:
        """Create a user, or replace all its properties: ``{'user_id': id, <property>: value}``."""
        self._put_one("user", user, "PUT", {})

    create_or_update_item = create_or_replace_item
    create_or_update_user = create_or_replace_user

    def partial_update_item(
        self, item: Mapping[str, Any], create_if_missing: bool | None = None
    ) -> dict[str, Any]:
        """Change some properties of one item. :returns: ``{'item_created', 'item_modified'}``"""
        return dict(
            self._put_one("item", item, "PATCH", drop_none(create_if_missing=create_if_missing))
        )

    def partial_update_user(
        self, user: Mapping[str, Any], create_if_missing: bool | None = None
    ) -> dict[str, Any]:
        """Change some properties of one user. :returns: ``{'user_created', 'user_modified'}``"""
        return dict(
            self._put_one("user", user, "PATCH", drop_none(create_if_missing=create_if_missing))
        )

    def delete_item_props(self, item_id: Any) -> None:
        """Delete one item's properties (its ratings and interactions are kept)."""
        self._call("DELETE", f"items/{self._path_id(item_id, 'item')}/properties/")

    def delete_user_props(self, user_id: Any) -> None:
        """Delete one user's properties (its ratings and interactions are kept)."""
        self._call("DELETE", f"users/{self._path_id(user_id, 'user')}/properties/")

    delete_user = delete_user_props

    def delete_user_all(self, user_id: Any) -> None:
        """Delete one user's properties, ratings and interactions."""
        self._call("DELETE", f"users/{self._path_id(user_id, 'user')}/*/")

    def _get_one(self, entity: str, entity_id: Any) -> dict[str, Any]:
        answer = dict(
            self._call("GET", f"{entity}s/{self._path_id(entity_id, entity)}/properties/")
        )
        row = dict(answer[entity])
        key = f"{entity}_id"
        if self._id_type(entity).startswith("bytes") and isinstance(row.get(key), str):
            row[key] = b64_decode(row[key])
        answer[entity] = row
        return answer

    def _put_one(
        self, entity: str, row: Mapping[str, Any], method: str, extra: dict[str, Any]
    ) -> Any:
        props = dict(row)
        path = f"{entity}s/{self._path_id(props.pop(f'{entity}_id'), entity)}/properties/"
        return self._call(method, path, data={entity: props, **extra})

    # --- bulk ----------------------------------------------------------------------------------

    def create_or_replace_items_bulk(
        self,
        items: Any,
        items_m2m: M2M | None = None,
        wait_for_completion: bool | None = None,
        chunk_size: int = 1024,
    ) -> None:
        """Create many items, or fully replace those that exist.

        :param items: structured array (or list of dicts) with ``item_id`` and one field per
            non-repeated property
        :param items_m2m: repeated values, each array with ``item_index`` (row in ``items``)
            and ``value_id`` fields; a missing row means an empty list
        :param chunk_size: items per request; m2m indices are rebased for every chunk
        """
        self._bulk(
            "item",
            "PUT",
            items,
            items_m2m,
            chunk_size,
            drop_none(wait_for_completion=wait_for_completion),
        )

    def create_or_replace_users_bulk(
        self,
        users: Any,
        users_m2m: M2M | None = None,
        wait_for_completion: bool | None = None,
        chunk_size: int = 1024,
    ) -> None:
        """Create many users, or fully replace the existing ones (as ``..._items_bulk``)."""
        self._bulk(
            "user",
            "PUT",
            users,
            users_m2m,
            chunk_size,
            drop_none(wait_for_completion=wait_for_completion),
        )

    create_or_update_items_bulk = create_or_replace_items_bulk
    create_or_update_users_bulk = create_or_replace_users_bulk

    def partial_update_items_bulk(
        self,
        items: Any,
        items_m2m: M2M | None = None,
        create_if_missing: bool | None = None,
        chunk_size: int = 1024,
        wait_for_completion: bool | None = None,
    ) -> None:
        """Change some properties of many items; repeated values given replace the old lists."""
        extra = drop_none(
            create_if_missing=create_if_missing, wait_for_completion=wait_for_completion
        )
        self._bulk("item", "PATCH", items, items_m2m, chunk_size, extra)

    def partial_update_users_bulk(
        self,
        users: Any,
        users_m2m: M2M | None = None,
        create_if_missing: bool | None = None,
        chunk_size: int = 1024,
        wait_for_completion: bool | None = None,
    ) -> None:
        """Change the given properties of many users."""
        extra = drop_none(
            create_if_missing=create_if_missing, wait_for_completion=wait_for_completion
        )
        self._bulk("user", "PATCH", users, users_m2m, chunk_size, extra)

    def list_items(
        self, items_id: Iterable[Any], properties: list[str] | None = None
    ) -> dict[str, Any]:
        """Properties of the given items (unknown ids are skipped; order is not kept).

        :returns: ``{'items': structured array (item_id + non-repeated properties),
            'items_m2m': [{'name', 'array': (item_index, value_id)}]}``
        """
        data = {
            "items_id": self._body_ids(_ids(items_id), "item"),
            **drop_none(properties=properties),
        }
        return self._listing("item", self._call("POST", "items-bulk/properties/list/", data=data))

    def list_users(self, users_id: Iterable[Any]) -> dict[str, Any]:
        """Properties of the given users; see ``list_items``."""
        data = {"users_id": self._body_ids(_ids(users_id), "user")}
        return self._listing("user", self._call("POST", "users-bulk/properties/list/", data=data))

    def list_items_paginated(
        self,
        amt: int | None = None,
        cursor: str | None = None,
        properties: list[str] | None = None,
        filters: list[Any] | None = None,
    ) -> dict[str, Any]:
        """One page of items; as ``list_items`` plus ``has_next`` and ``next_cursor``."""
        return self._page("item", amt, cursor, properties, filters)

    def list_users_paginated(
        self,
        amt: int | None = None,
        cursor: str | None = None,
        properties: list[str] | None = None,
        filters: list[Any] | None = None,
    ) -> dict[str, Any]:
        """One page of users; as ``list_users`` plus ``has_next`` and ``next_cursor``."""
        return self._page("user", amt, cursor, properties, filters)

    def delete_items(self, items_id: Iterable[Any]) -> None:
        """Delete the properties of many items (ratings and interactions are kept)."""
        self._call(
            "DELETE",
            "items-bulk/properties/",
            data={"items_id": self._body_ids(_ids(items_id), "item")},
        )

    def delete_users(self, users_id: Iterable[Any]) -> None:
        """Delete the properties of many users (ratings and interactions are kept)."""
        self._call(
            "DELETE",
            "users-bulk/properties/",
            data={"users_id": self._body_ids(_ids(users_id), "user")},
        )

    def _bulk(
        self,
        entity: str,
        method: str,
        rows: Any,
        m2m: M2M | None,
        chunk_size: int,
        extra: dict[str, Any],
    ) -> None:
        rows = rows if isinstance(rows, np.ndarray) else list(rows)
        key = f"{entity}s"
        show = len(rows) > chunk_size
        with self._bar(len(rows), f"uploading {key}", f" {key}", show=show) as bar:
            for part, part_m2m in chunk_rows(rows, m2m_as_list(m2m), chunk_size, entity):
                data = {key: part, f"{key}_m2m": part_m2m, **extra}
                self._call(method, f"{key}-bulk/properties/", data=data, timeout=self.bulk_timeout)
                bar.update(len(part))

    def _page(
        self,
        entity: str,
        amt: int | None,
        cursor: str | None,
        properties: list[str] | None,
        filters: list[Any] | None,
    ) -> dict[str, Any]:
        params = drop_none(
            amt=amt,
            cursor=cursor or None,
            properties=properties or None,
            filters=filters_to_query(filters) if filters else None,
        )
        return self._listing(
            entity, self._call("GET", f"{entity}s-bulk/properties/", params=params)
        )

    def _listing(self, entity: str, answer: Mapping[str, Any]) -> dict[str, Any]:
        """Rows and m2m lists of a listing as structured arrays typed by the property schema."""
        out = dict(answer)
        key, schema = f"{entity}s", self._schema(entity)
        rows = answer.get(key) or []
        names = (
            dict.fromkeys(name for row in rows for name in row) if isinstance(rows, list) else {}
        )
        fields = [(f"{entity}_id", None)] + [
            (name, schema[name.lower()][0] if name.lower() in schema else None)
            for name in names
            if name != f"{entity}_id"
        ]
        out[key] = rows_to_array(rows, fields, self._id_types())
        dtypes = {name: dtype for name, (dtype, _) in schema.items()}
        out[f"{key}_m2m"] = m2m_from_wire(answer.get(f"{key}_m2m"), entity, dtypes)
        return out


def _ids(values: Iterable[Any]) -> Any:
    return values if isinstance(values, np.ndarray) else list(values)
