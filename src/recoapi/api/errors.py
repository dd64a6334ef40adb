"""The one table from exceptions to HTTP answers.

Domain errors carry their wire code and status (``recoapi.errors``); anything else is a
bug, logged with its traceback and answered as a 500 with code 0 and no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from recoapi.errors import RecoapiError

log = logging.getLogger("recoapi.api")


def error_answer(exc: BaseException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, RecoapiError):
        if exc.http_status >= 500:
            log.warning("%s: %s", type(exc).__name__, exc.message)
        return exc.http_status, exc.to_body()
    log.exception("unhandled error", exc_info=exc)
    return 500, RecoapiError("internal server error; see the server log").to_body()
