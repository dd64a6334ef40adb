"""A Python client for recoapi, compatible with ``xminds`` 0.7.0.

It needs only numpy, httpx and tqdm (no server dependencies)::

    from recoapi.client import CrossingMindsApiClient   # instead of xminds.api.client

    client = CrossingMindsApiClient(host="http://127.0.0.1:8000")
    client.login_individual(email, password, db_id=db_id)
    client.get_reco_item_to_items(50, amt=8)["items_id"]   # numpy array of item ids
"""

from __future__ import annotations

from recoapi.client._client import CrossingMindsApiClient, RecoClient
from recoapi.client._core import AUTO_FRONTEND_ID, DEFAULT_HOST
from recoapi.client._errors import (
    AuthError,
    ConnectionFailed,
    DuplicatedError,
    ForbiddenError,
    JwtTokenExpired,
    MethodNotAllowed,
    NotFoundError,
    RefreshTokenExpired,
    RequestError,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    WrongData,
    XMindsError,
)
from recoapi.client._transport import RetryPolicy

__all__ = [
    "AUTO_FRONTEND_ID",
    "DEFAULT_HOST",
    "AuthError",
    "ConnectionFailed",
    "CrossingMindsApiClient",
    "DuplicatedError",
    "ForbiddenError",
    "JwtTokenExpired",
    "MethodNotAllowed",
    "NotFoundError",
    "RecoClient",
    "RefreshTokenExpired",
    "RequestError",
    "RetryPolicy",
    "ServerError",
    "ServerUnavailable",
    "TooManyRequests",
    "WrongData",
    "XMindsError",
]
