"""Logins, tokens, accounts, service keys and the organization (ENDPOINTS.md §4, §9.1-9.2)."""

from __future__ import annotations

import functools
import time
import uuid
from typing import Any

from recoapi.api.auth import (
    REFRESH_TOKEN_SECONDS,
    Principal,
    hash_password,
    hash_secret,
    key_to_path,
    new_secret,
    verify_password,
)
from recoapi.api.request import Request
from recoapi.api.routing import ADMIN_ROLES, ALL_ROLES, Route
from recoapi.api.util import merge_patch
from recoapi.errors import (
    AuthError,
    DuplicatedError,
    ForbiddenError,
    NotFoundError,
    RefreshTokenExpired,
    WrongData,
)
from recoapi.store.base import AccountRecord, DatabaseRecord, RefreshTokenRecord

CREATABLE_ROLES = {"manager", "backend", "frontend"}
_WRONG_LOGIN = "wrong credentials"


# --- logins ------------------------------------------------------------------------------


@functools.cache
def _decoy_hash() -> str:
    """A real argon2 hash: an unknown email then costs as much as a wrong password, so
    response times do not tell which accounts exist."""
    return hash_password(new_secret())


def login_individual(req: Request) -> dict[str, Any]:
    """Log in with email and password, optionally selecting a database."""
    account = req.state.store.find_account(email=req.body_str("email").strip().lower())
    if account is None or account.kind != "individual":
        verify_password(_decoy_hash(), req.body_str("password"))
        raise AuthError(_WRONG_LOGIN)
    if not verify_password(account.password_hash, req.body_str("password")):
        raise AuthError(_WRONG_LOGIN)
    return _login(req, account)


def login_service(req: Request) -> dict[str, Any]:
    """Log in a service account with its password or one of its keys."""
    account = req.state.store.find_account(name=req.body_str("name"))
    secret = req.body_str("password")
    if account is None or account.kind != "service":
        raise AuthError(_WRONG_LOGIN)
    key = req.state.store.find_service_key(account.id, hash_secret(secret))
    if key is not None and key.expires is not None and key.expires < time.time():
        raise AuthError("this service account key has expired")
    if key is None and not verify_password(account.password_hash, secret):
        raise AuthError(_WRONG_LOGIN)
    return _login(req, account)


def login_root(req: Request) -> dict[str, Any]:
    """Deprecated root login: an organization-level token only."""
    account = req.state.store.find_account(email=req.body_str("email").strip().lower())
    if account is None or account.role != "root":
        verify_password(_decoy_hash(), req.body_str("password"))
        raise AuthError(_WRONG_LOGIN)
    if not verify_password(account.password_hash, req.body_str("password")):
        raise AuthError(_WRONG_LOGIN)
    return _login(req, account)


def login_refresh_token(req: Request) -> dict[str, Any]:
    """Exchange a refresh token (single use) for a new access and refresh token."""
    record = req.state.store.pop_refresh_token(hash_secret(req.body_str("refresh_token")))
    if record is None or record.expires < time.time():
        raise RefreshTokenExpired("the refresh token is unknown, used or expired; log in again")
    account = req.state.store.get_account(record.account_id)
    if account is None:
        raise RefreshTokenExpired("the account of this refresh token no longer exists")
    database = _selected_database(req, account)
    if database is None:
        try:
            database = _database_by_id(req, account, record.db_id)
        except NotFoundError:  # the token's database was deleted: it can never be refreshed
            raise RefreshTokenExpired(
                "the database of this refresh token no longer exists"
            ) from None
    return _issue(req, account, database, record.frontend if database else {})


def login_jwt(req: Request) -> dict[str, Any]:
    """Describe the current token."""
    who = req.who
    answer: dict[str, Any] = {
        "org_id": who.org_id,
        "account": {"id": who.account_id, "role": who.role},
    }
    if who.db_id:
        answer["database"] = req.state.bound_database(who).to_public()
    for entity, raw in who.frontend_raw.items():
        answer[f"frontend_{entity}_id"] = raw
    return answer


def _login(req: Request, account: AccountRecord) -> dict[str, Any]:
    database = _selected_database(req, account)
    frontend = _frontend_ids(req, database) if database else {}
    if account.role == "frontend" and database is not None and not frontend:
        raise WrongData("a frontend login needs frontend_user_id or frontend_session_id")
    answer = _issue(req, account, database, frontend)
    if database is not None and "user" in frontend and "session" in frontend:
        _resolve_login_session(req, database, frontend)
    return answer


def _issue(
    req: Request, account: AccountRecord, database: DatabaseRecord | None, frontend: dict[str, str]
) -> dict[str, Any]:
    principal = Principal(
        account.id,
        account.org_id,
        account.role,
        database.id if database else None,
        frontend_raw=frontend,
    )
    refresh = new_secret()
    req.state.store.save_refresh_token(
        hash_secret(refresh),
        RefreshTokenRecord(
            account.id, principal.db_id, frontend, time.time() + REFRESH_TOKEN_SECONDS
        ),
    )
    answer: dict[str, Any] = {
        "token": req.state.signer.issue(principal),
        "refresh_token": refresh,
        "role": account.role,
        "org_id": account.org_id,
    }
    if database is not None:
        answer["database"] = database.to_public()
    return answer


def _selected_database(req: Request, account: AccountRecord) -> DatabaseRecord | None:
    db_id, db_name = req.payload.get("db_id"), req.payload.get("db_name")
    if db_id:
        return _database_by_id(req, account, str(db_id))
    if db_name:
        found = req.state.store.find_database(account.org_id, str(db_name))
        if found is None:
            raise NotFoundError("database", db_name)
        return found
    return None


def _database_by_id(
    req: Request, account: AccountRecord, db_id: str | None
) -> DatabaseRecord | None:
    if not db_id:
        return None
    found = req.state.store.get_database(db_id)
    if found is None or found.org_id != account.org_id:  # never reveal other orgs' databases
        raise NotFoundError("database", db_id)
    return found


def _frontend_ids(req: Request, database: DatabaseRecord) -> dict[str, str]:
    from recoapi.core.idtypes import parse_id_type

    ids = {}
    for entity in ("user", "session"):
        value = req.payload.get(f"frontend_{entity}_id")
        if value is not None:
            id_type = parse_id_type(getattr(database, f"{entity}_id_type"))
            ids[entity] = key_to_path(id_type.from_body(value, f"frontend_{entity}_id", req.fmt))
    return ids


def _resolve_login_session(
    req: Request, database: DatabaseRecord, frontend: dict[str, str]
) -> None:
    from recoapi.core.idtypes import parse_id_type

    user_type = parse_id_type(database.user_id_type)
    session_type = parse_id_type(database.session_id_type)
    user_key = user_type.to_db(user_type.from_path(frontend["user"]))
    session_key = session_type.to_db(session_type.from_path(frontend["session"]))
    req.state.engine.resolve_session(database, session_key, user_key, time.time())


# --- accounts ----------------------------------------------------------------------------


def create_individual_account(req: Request) -> dict[str, Any]:
    email = req.body_str("email").strip().lower()
    if "@" not in email:
        raise WrongData("field 'email' must be an email address", field="email")
    role = _creatable_role(req, req.body_str("role", "backend"))
    if req.state.store.find_account(email=email) is not None:
        raise DuplicatedError("account", email, name="DUPLICATED_ACCOUNT")
    password = req.body_str("password", None)
    record = AccountRecord(
        uuid.uuid4().hex,
        req.who.org_id,
        "individual",
        role,
        email=email,
        password_hash=hash_password(password) if password else None,
        first_name=req.body_str("first_name", ""),
        last_name=req.body_str("last_name", ""),
        metadata=req.body_dict("metadata", {}),
    )
    req.state.store.create_account(record)
    return {
        "id": record.id,
        "warnings": [] if password else ["no password set: this account cannot log in"],
    }


def partial_update_individual_account(req: Request) -> dict[str, Any]:
    account = _org_account(req, email=req.body_str("email").strip().lower())
    if req.who.role not in ADMIN_ROLES and account.id != req.who.account_id:
        raise ForbiddenError("only managers may update other accounts")
    if account.role == "root" and account.id != req.who.account_id:
        raise ForbiddenError("only the root account itself may change the root account")
    fields: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if req.payload.get(name):
            fields[name] = req.body_str(name)
    if req.payload.get("password"):
        fields["password_hash"] = hash_password(req.body_str("password"))
    if req.payload.get("metadata") is not None:
        fields["metadata"] = merge_patch(account.metadata, req.body_dict("metadata"))
    if fields:
        req.state.store.update_account(account.id, **fields)
    return {"warnings": []}


def delete_individual_account(req: Request) -> None:
    account = _org_account(req, email=req.body_str("email").strip().lower())
    if account.role == "root":
        raise ForbiddenError("the root account cannot be deleted")
    req.state.store.delete_account(account.id)


def create_service_account(req: Request) -> dict[str, Any]:
    name = req.body_str("name", max_len=128)
    role = _creatable_role(req, req.body_str("role", "frontend"))
    if req.state.store.find_account(name=name) is not None:
        raise DuplicatedError("account", name, name="DUPLICATED_ACCOUNT")
    password = req.body_str("password", None)
    record = AccountRecord(
        uuid.uuid4().hex,
        req.who.org_id,
        "service",
        role,
        name=name,
        password_hash=hash_password(password) if password else None,
        metadata=req.body_dict("metadata", {}),
    )
    req.state.store.create_account(record)
    return {"id": record.id}


def delete_service_account(req: Request) -> None:
    req.state.store.delete_account(_org_account(req, name=req.body_str("name")).id)


def create_service_account_key(req: Request) -> dict[str, Any]:
    account = _org_account(req, name=req.body_str("name"))
    expires = req.q_float("expiration_timestamp")
    secret = new_secret()
    key = req.state.store.create_service_key(
        account.id, hash_secret(secret), expires, req.body_dict("metadata", {})
    )
    return {
        "id": key.id,
        "key": secret,
        "created_timestamp": key.created,
        "expiration_timestamp": key.expires,
        "expire_timestamp": key.expires,
        "metadata": key.metadata,
    }


def delete_service_account_key(req: Request) -> None:
    if not req.state.store.delete_service_key(req.who.org_id, req.params["key_id"]):
        raise NotFoundError("key", req.params["key_id"])


def list_accounts(req: Request) -> dict[str, Any]:
    store, now = req.state.store, time.time()
    individuals, services = [], []
    for account in store.list_accounts(req.who.org_id):
        if account.kind == "individual":
            individuals.append(
                {
                    "id": account.id,
                    "role": account.role,
                    "first_name": account.first_name,
                    "last_name": account.last_name,
                    "email": account.email,
                    "metadata": account.metadata,
                }
            )
            continue
        keys = [
            {
                "id": k.id,
                "created_timestamp": k.created,
                "expiration_timestamp": k.expires,
                "is_expired": k.expires is not None and k.expires < now,
                "metadata": k.metadata,
            }
            for k in store.list_service_keys(account.id)
        ]
        services.append(
            {"name": account.name, "role": account.role, "metadata": account.metadata, "keys": keys}
        )
    return {"individual_accounts": individuals, "service_accounts": services}


def password_email_unsupported(req: Request) -> None:
    raise ForbiddenError(
        "a self-hosted recoapi sends no email: a manager can set the password with "
        "PATCH accounts/individual/, or run `recoapi accounts create-root`"
    )


def _creatable_role(req: Request, role: str) -> str:
    if role not in CREATABLE_ROLES:
        raise WrongData(
            f"field 'role' must be one of {sorted(CREATABLE_ROLES)}, got {role!r}", field="role"
        )
    return role


def _org_account(
    req: Request, *, email: str | None = None, name: str | None = None
) -> AccountRecord:
    account = req.state.store.find_account(email=email, name=name)
    if account is None or account.org_id != req.who.org_id:
        raise NotFoundError("account", email or name)
    return account


# --- organization ------------------------------------------------------------------------


def get_organization(req: Request) -> dict[str, Any]:
    return {"metadata": req.state.store.get_organization_metadata(req.who.org_id)}


def _patched_org_metadata(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    old = req.state.store.get_organization_metadata(req.who.org_id)
    return old, merge_patch(old, req.body_dict("metadata"), preserve=req.body_bool("preserve"))


def update_organization(req: Request) -> None:
    _, new = _patched_org_metadata(req)
    req.state.store.set_organization_metadata(req.who.org_id, new)


def preview_organization(req: Request) -> dict[str, Any]:
    old, new = _patched_org_metadata(req)
    return {"metadata_old": old, "metadata_new": new}


def routes() -> list[Route]:
    none, admin = dict(auth="none", roles=ALL_ROLES), dict(auth="org", roles=ADMIN_ROLES)
    return [
        Route("POST", "/v1/login/individual/", login_individual, **none),
        Route("POST", "/v1/login/service/", login_service, **none),
        Route("POST", "/v1/login/root/", login_root, **none),
        Route("POST", "/v1/login/refresh-token/", login_refresh_token, **none),
        Route("POST", "/v1/login/jwt/", login_jwt, auth="org", roles=ALL_ROLES),
        Route("POST", "/v1/accounts/individual/", create_individual_account, **admin),
        Route(
            "PATCH",
            "/v1/accounts/individual/",
            partial_update_individual_account,
            auth="org",
            roles=frozenset({"root", "manager", "backend"}),
        ),
        Route("DELETE", "/v1/accounts/individual/", delete_individual_account, **admin),
        Route("POST", "/v1/accounts/service/", create_service_account, **admin),
        Route("DELETE", "/v1/accounts/service/", delete_service_account, **admin),
        Route("POST", "/v1/accounts/service/keys/", create_service_account_key, **admin),
        Route("DELETE", "/v1/accounts/service/keys/{key_id}/", delete_service_account_key, **admin),
        Route(
            "POST",
            "/v1/accounts/individual/send-reset-password-email/",
            password_email_unsupported,
            **none,
        ),
        Route("POST", "/v1/accounts/individual/reset/", password_email_unsupported, **none),
        Route("GET", "/v1/organizations/accounts/", list_accounts, **admin),
        Route("GET", "/v1/organizations/current/accounts/", list_accounts, **admin),
        Route("GET", "/v1/organizations/current/", get_organization, auth="org", roles=ALL_ROLES),
        Route("PATCH", "/v1/organizations/current/", update_organization, **admin),
        Route("PATCH", "/v1/organizations/current/preview/", preview_organization, **admin),
    ]
