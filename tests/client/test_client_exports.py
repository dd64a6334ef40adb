"""The public surface of ``recoapi.client``: exact ``__all__``, xminds names, no server imports."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import recoapi.client
from recoapi.client import CrossingMindsApiClient, RecoClient, XMindsError

EXPECTED = {
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
}
XMINDS_ERRORS = (
    "XMindsError",
    "ServerError",
    "ServerUnavailable",
    "TooManyRequests",
    "AuthError",
    "JwtTokenExpired",
    "RefreshTokenExpired",
    "RequestError",
    "WrongData",
    "DuplicatedError",
    "ForbiddenError",
    "NotFoundError",
    "MethodNotAllowed",
)


def test_all_is_exact() -> None:
    assert set(recoapi.client.__all__) == EXPECTED
    assert len(recoapi.client.__all__) == len(EXPECTED)
    public = {name for name in vars(recoapi.client) if not name.startswith("_")}
    assert public - {"annotations"} == EXPECTED


def test_alias_is_the_same_class() -> None:
    assert CrossingMindsApiClient is RecoClient
    assert RecoClient.create_or_update_items_bulk is RecoClient.create_or_replace_items_bulk
    assert RecoClient.create_or_update_item is RecoClient.create_or_replace_item
    assert RecoClient.create_or_update_users_bulk is RecoClient.create_or_replace_users_bulk


def test_import_needs_no_server_dependency() -> None:
    code = (
        "import sys, recoapi.client; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('scipy', 'uvicorn', 'jwt', 'argon2', 'implicit', 'requests', 'xminds') "
        "or (m.startswith('recoapi.') and not m.startswith('recoapi.client'))); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", XMINDS_ERRORS)
def test_error_classes_match_xminds(name: str) -> None:
    from xminds.api import exceptions as reference

    ours, theirs = getattr(recoapi.client, name), getattr(reference, name)
    assert issubclass(ours, XMindsError)
    assert getattr(ours, "CODE", None) == getattr(theirs, "CODE", None)
    assert ours.HTTP_STATUS == getattr(theirs, "HTTP_STATUS", 500)


def _reference_methods() -> dict[str, inspect.Signature]:
    from xminds.api.client import CrossingMindsApiClient as Reference

    return {
        name: inspect.signature(fn)
        for name, fn in vars(Reference).items()
        if callable(fn) and not name.startswith("_") and name not in ("escape_url",)
    }


def test_every_reference_method_exists_with_its_arguments() -> None:
    """The walkthrough (and any xminds code) runs by changing the import: same names, same
    parameter names in the same order, same defaults where the reference has one."""
    missing, different = [], []
    for name, theirs in _reference_methods().items():
        ours_fn = getattr(RecoClient, name, None)
        if ours_fn is None:
            missing.append(name)
            continue
        ours = inspect.signature(ours_fn)
        their_params = list(theirs.parameters.values())
        our_params = list(ours.parameters.values())[: len(their_params)]
        if [p.name for p in our_params] != [p.name for p in their_params]:
            different.append((name, str(ours), str(theirs)))
    assert not missing, missing
    assert not different, different
