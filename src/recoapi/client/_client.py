"""``RecoClient``: every area of the API in one class (``CrossingMindsApiClient`` is an alias)."""

from __future__ import annotations

from recoapi.client._accounts import AccountsMixin
from recoapi.client._catalog import CatalogMixin
from recoapi.client._events import EventsMixin
from recoapi.client._reco import RecoMixin
from recoapi.client._scenarios import ScenariosMixin
from recoapi.client._tasks import TasksMixin


class RecoClient(AccountsMixin, CatalogMixin, EventsMixin, RecoMixin, ScenariosMixin, TasksMixin):
    """A client for recoapi and other Crossing Minds-compatible servers.

    Method names, arguments and answers follow ``xminds.api.client.CrossingMindsApiClient``
    0.7.0, so code written for it runs by changing the import. On top of that: bulk data
    goes in and comes out as numpy structured arrays in both wire formats, uploads are sent
    back to back with progress bars, expired access tokens are refreshed, and calls are
    retried on connection errors, 429 and 503.

    >>> from recoapi.client import RecoClient
    >>> with RecoClient("http://127.0.0.1:8000") as client:  # doctest: +SKIP
    ...     client.login_individual("root@example.com", "secret", db_id="...")
    ...     client.get_reco_item_to_items(50, amt=8)["items_id"]
    array([ 47, 296, ...], dtype=uint32)
    """

    def __enter__(self) -> RecoClient:
        return self


CrossingMindsApiClient = RecoClient
"""The reference client's name, for code written against ``xminds``."""
