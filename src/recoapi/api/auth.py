"""Passwords, access tokens and refresh tokens.

Access tokens are short-lived HS256 JWTs that carry everything a request needs (account,
organization, role, bound database, frontend ids), so authorising a call costs no store
lookup. Refresh tokens are random strings stored only as SHA-256 hashes, bound to the
account, database and frontend ids of the login, and rotated on every use.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from recoapi.errors import AuthError, JwtTokenExpired

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
_ALGORITHM = "HS256"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A random token: refresh tokens and service-account keys."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Refresh tokens and keys are high-entropy, so a fast hash is enough (no argon2)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def key_to_path(key: Any) -> str:
    """An id in the form it takes in a URL (bytes: unpadded url-safe base64)."""
    if isinstance(key, bytes):
        return base64.urlsafe_b64encode(key).decode().rstrip("=")
    return str(key)


@dataclass
class Principal:
    """The authenticated caller of one request."""

    account_id: str
    org_id: str
    role: str
    db_id: str | None = None
    frontend_raw: dict[str, str] = field(default_factory=dict)
    frontend_ids: dict[str, Any] = field(default_factory=dict)


VERIFIED_CACHE_SIZE = 4096


class TokenSigner:
    def __init__(self, secret_key: str, access_seconds: int = ACCESS_TOKEN_SECONDS) -> None:
        self._key = secret_key
        self.access_seconds = access_seconds
        # Verifying an HS256 JWT costs tens of microseconds, a large share of a cached
        # recommendation call; a token verified once stays valid until its own expiry.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, principal: Principal, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims: dict[str, Any] = {
            "sub": principal.account_id,
            "org": principal.org_id,
            "role": principal.role,
            "iat": int(now),
            "exp": math.ceil(now) + self.access_seconds,  # never shorter than configured
        }
        if principal.db_id:
            claims["db"] = principal.db_id
        if principal.frontend_raw:
            claims["fe"] = principal.frontend_raw
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(token, self._key, algorithms=[_ALGORITHM])
        except jwt.ExpiredSignatureError:
            raise JwtTokenExpired("the access token has expired; log in or refresh") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid access token: {exc}") from None
        principal = Principal(
            account_id=claims["sub"],
            org_id=claims["org"],
            role=claims["role"],
            db_id=claims.get("db"),
            frontend_raw=dict(claims.get("fe") or {}),
        )
        return principal, float(claims["exp"])


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing 'Authorization: Bearer <token>' header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()
