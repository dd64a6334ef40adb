"""The one exception tree of the server side, with the wire codes of the reference API.

Domain code (core, store, engine) raises these; only ``api/errors.py`` turns them into
HTTP responses. Each class carries the reference client's ``error_code`` so that
``xminds`` maps it to the same exception class it would get from the hosted service::

    RecoapiError                      code 0   500
    ├── ServerUnavailable             code 1   503
    │   └── ModelNotReady             code 1   503  DATABASE_NOT_READY
    ├── TooManyRequests               code 2   429
    ├── AuthError                     code 21  401
    │   ├── JwtTokenExpired           code 22  401  (the client refreshes by itself)
    │   └── RefreshTokenExpired       code 28  401
    ├── WrongData                     code 40  400  WRONG_DATA_TYPE
    ├── DuplicatedError               code 42  400  DUPLICATED_<TYPE>_ID ...
    ├── ForbiddenError                code 50  403
    ├── NotFoundError                 code 60  404  <TYPE>_NOT_FOUND
    └── MethodNotAllowed              code 70  405
"""

from __future__ import annotations

from typing import Any


class RecoapiError(Exception):
    """Base class; unknown subclasses of it become a 500 with code 0."""

    code = 0
    http_status = 500
    default_name = "SERVER_ERROR"

    def __init__(self, message: str = "", *, name: str | None = None, **data: Any) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.name = name or self.default_name
        self.data = data

    def error_data(self) -> dict[str, Any]:
        return {"name": self.name, **self.data}

    def to_body(self) -> dict[str, Any]:
        return {
            "error_code": self.code,
            "error_name": self.name,
            "message": self.message,
            "error_data": self.error_data(),
        }


class ServerUnavailable(RecoapiError):
    code = 1
    http_status = 503
    default_name = "SERVER_UNAVAILABLE"


class ModelNotReady(ServerUnavailable):
    """No model has been trained yet for this database."""

    default_name = "DATABASE_NOT_READY"

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "no model is trained for this database yet; wait until its status is 'ready'"
        )


class TooManyRequests(RecoapiError):
    code = 2
    http_status = 429
    default_name = "TOO_MANY_REQUESTS"


class AuthError(RecoapiError):
    code = 21
    http_status = 401
    default_name = "AUTH_ERROR"

    def __init__(self, message: str = "", **data: Any) -> None:
        data.setdefault("error", message)
        super().__init__(message, **data)


class JwtTokenExpired(AuthError):
    code = 22
    default_name = "JWT_TOKEN_EXPIRED"


class RefreshTokenExpired(AuthError):
    code = 28
    default_name = "REFRESH_TOKEN_EXPIRED"


class WrongData(RecoapiError):
    """Invalid input. The message names the field (and the row for bulk data)."""

    code = 40
    http_status = 400
    default_name = "WRONG_DATA_TYPE"


class DuplicatedError(RecoapiError):
    code = 42
    http_status = 400
    default_name = "DUPLICATED"

    def __init__(self, type: str, key: Any, message: str = "", name: str | None = None) -> None:
        super().__init__(
            message or f"the {type} {key!s} is duplicated",
            name=name or f"DUPLICATED_{type.upper()}_ID",
            type=type,
            key=str(key),
        )


class ForbiddenError(RecoapiError):
    code = 50
    http_status = 403
    default_name = "FORBIDDEN"

    def __init__(self, message: str = "", **data: Any) -> None:
        data.setdefault("error", message)
        super().__init__(message, **data)


class NotFoundError(RecoapiError):
    code = 60
    http_status = 404
    default_name = "NOT_FOUND"

    def __init__(self, type: str, key: Any, message: str = "", name: str | None = None) -> None:
        super().__init__(
            message or f"the {type} {key!s} does not exist",
            name=name or f"{type.upper()}_NOT_FOUND",
            type=type,
            key=str(key),
        )


class MethodNotAllowed(RecoapiError):
    code = 70
    http_status = 405
    default_name = "METHOD_NOT_ALLOWED"

    def __init__(self, method: str) -> None:
        super().__init__(f"method {method} is not allowed on this path", method=method)


class StoreError(RecoapiError):
    """A storage backend failed in a way the caller cannot fix (disk full, lost connection)."""

    default_name = "STORE_ERROR"
