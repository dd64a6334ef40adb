"""Small helpers shared by route modules."""

from __future__ import annotations

import base64
import copy
import math
from typing import Any

import numpy as np

from recoapi.errors import WrongData


def merge_patch(target: Any, patch: Any, *, preserve: bool = False) -> Any:
    """RFC 7396 JSON merge patch; with ``preserve`` lists are appended instead of replaced."""
    if not isinstance(patch, dict):
        if preserve and isinstance(target, list) and isinstance(patch, list):
            return target + patch
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value, preserve=preserve)
    return result


def plain_json(value: Any, field: str) -> Any:
    """A free-form document of a body (metadata, interaction properties, a scenario) as plain
    JSON values: pkl bodies may carry numpy scalars, bytes or NaN, which stored JSON cannot."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WrongData(
                f"'{field}' holds {value}; only finite numbers are allowed", field=field
            )
        return value
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise WrongData(f"'{field}' must have string keys", field=field)
        return {key: plain_json(item, field) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item, field) for item in value]
    raise WrongData(
        f"'{field}' holds a {type(value).__name__}, which is not a JSON value", field=field
    )


def page_answer(rows: list[Any], page: int, amt: int, key: str) -> dict[str, Any]:
    """Page-numbered listing: ``rows`` holds up to amt + 1 rows to tell whether more exist."""
    has_next = len(rows) > amt
    return {key: rows[:amt], "has_next": has_next, "next_page": page + 1 if has_next else None}


def encode_cursor(*parts: int) -> str:
    text = ":".join(str(int(p)) for p in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: Any, n_parts: int) -> tuple[int, ...] | None:
    """An opaque cursor back to its integers; None for 'from the start'."""
    if cursor in (None, ""):
        return None
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        parts = tuple(int(p) for p in text.split(":"))
    except ValueError:
        raise WrongData(
            f"'cursor' is not a cursor this server issued: {cursor!r}", field="cursor"
        ) from None
    if len(parts) != n_parts:
        raise WrongData(
            f"'cursor' is not a cursor this endpoint issued: {cursor!r}", field="cursor"
        )
    return parts
