"""The client's exceptions: the classes, names and codes of ``xminds.api.exceptions`` 0.7.0.

Every error the server reports carries an ``error_code``; the client raises the class
with that code, whatever the HTTP status::

    XMindsError                        base class (catch-all)
    ├── ServerError              0     500  unknown or internal server error
    │   └── ServerUnavailable    1     503  overloaded, or DATABASE_NOT_READY
    │       └── ConnectionFailed       -    no answer at all (refused, reset, timed out)
    ├── TooManyRequests          2     429  rate limited (see ``retry_after``)
    ├── AuthError               21     401  bad credentials or token
    │   ├── JwtTokenExpired     22     401  the client refreshes and retries by itself
    │   └── RefreshTokenExpired 28     401  log in again
    ├── RequestError                   400  (code-less base of the two below)
    │   ├── WrongData           40     400  invalid input; the message names the field
    │   └── DuplicatedError     42     400  duplicated id, or TASK_ALREADY_RUNNING
    ├── ForbiddenError          50     403  the token's role may not do this
    ├── NotFoundError           60     404  unknown item, user, rating, database ...
    └── MethodNotAllowed        70     405

Two differences from xminds 0.7.0, both so that callers can tell failures apart:
``ServerUnavailable`` derives from ``ServerError`` (xminds raises ``ServerError`` for every
5xx, so ``except ServerError`` keeps working), and a request that never got an answer raises
``ConnectionFailed`` after the retries instead of leaking a transport exception.
"""

from __future__ import annotations

from typing import Any, ClassVar


class XMindsError(Exception):
    """Base class of every error raised by the client.

    Attributes: ``message`` (the server's message, else the class template filled from
    ``data``), ``data`` (the ``error_data`` dict), ``status_code`` (HTTP status, or None),
    ``retry_after`` (seconds the server asked us to wait, or None).
    """

    MSG: ClassVar[str] = "Unknown error"
    CODE: ClassVar[int | None] = None
    HTTP_STATUS: ClassVar[int] = 500
    retry_after: float | None = None

    def __init__(
        self,
        data: Any = None,
        *,
        message: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.data = data if data is not None else {}
        self.message = message or _fill(self.MSG, self.data)
        self.status_code = status_code
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def name(self) -> str | None:
        """The server's error name, e.g. ``DATABASE_NOT_READY`` or ``ITEM_NOT_FOUND``."""
        return self.data.get("name") if isinstance(self.data, dict) else None

    def __str__(self) -> str:
        if self.name and self.name not in self.message:
            return f"{self.message} [{self.name}]"
        return self.message

    @classmethod
    def from_code(cls, code: int | None, data: Any = None, **kwargs: Any) -> XMindsError:
        """The exception for an ``error_code``; unknown codes give ``ServerError``."""
        return ERROR_CLASSES.get(code if isinstance(code, int) else -1, ServerError)(data, **kwargs)


def _fill(template: str, data: Any) -> str:
    try:
        return template.format(**data) if isinstance(data, dict) else template
    except (KeyError, IndexError, ValueError):
        return template


class ServerError(XMindsError):
    MSG = "Unknown error from server"
    CODE = 0
    HTTP_STATUS = 500


class ServerUnavailable(ServerError):
    MSG = "The server is currently unavailable, please try again later"
    CODE = 1
    HTTP_STATUS = 503


class ConnectionFailed(ServerUnavailable):
    """No HTTP answer: connection refused or reset, or a timeout. Raised after the retries."""

    MSG = "Cannot reach the server: {error}"


class TooManyRequests(XMindsError):
    MSG = "The amount of requests exceeds the limit of your subscription"
    CODE = 2
    HTTP_STATUS = 429


class AuthError(XMindsError):
    MSG = "Cannot perform authentication: {error}"
    CODE = 21
    HTTP_STATUS = 401


class JwtTokenExpired(AuthError):
    MSG = "The JWT token has expired"
    CODE = 22


class RefreshTokenExpired(AuthError):
    MSG = "The refresh token has expired"
    CODE = 28


class RequestError(XMindsError):
    MSG = "The request is invalid"
    HTTP_STATUS = 400


class WrongData(RequestError):
    MSG = "There is an error in the submitted data"
    CODE = 40


class DuplicatedError(RequestError):
    MSG = "The {type} {key} is duplicated"
    CODE = 42


class ForbiddenError(XMindsError):
    MSG = "Do not have enough permissions to access this resource: {error}"
    CODE = 50
    HTTP_STATUS = 403


class NotFoundError(XMindsError):
    MSG = "The {type} {key} does not exist"
    CODE = 60
    HTTP_STATUS = 404


class MethodNotAllowed(XMindsError):
    MSG = 'Method "{method}" not allowed'
    CODE = 70
    HTTP_STATUS = 405


ERROR_CLASSES: dict[int, type[XMindsError]] = {
    cls.CODE: cls
    for cls in (
        ServerError,
        ServerUnavailable,
        TooManyRequests,
        AuthError,
        JwtTokenExpired,
        RefreshTokenExpired,
        WrongData,
        DuplicatedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowed,
    )
    if cls.CODE is not None
}
