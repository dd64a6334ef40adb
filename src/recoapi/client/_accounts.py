"""Accounts, logins, the organization and databases (ENDPOINTS.md §9.1-9.3)."""

from __future__ import annotations

from typing import Any

from recoapi.client._core import ClientCore, drop_none


class AccountsMixin(ClientCore):
    # --- login ---------------------------------------------------------------------------------

    def login_individual(
        self,
        email: str,
        password: str,
        db_id: str | None = None,
        frontend_user_id: Any = None,
        frontend_session_id: Any = None,
        db_name: str | None = None,
    ) -> dict[str, Any]:
        """Log in with an individual account, optionally on a database (``db_id`` or ``db_name``).

        With ``frontend_user_id`` and ``frontend_session_id`` the anonymous session is also
        resolved to the user.

        :returns: ``{'token', 'refresh_token', 'role', 'org_id', 'database'?: {'id', 'name',
            'description', 'item_id_type', 'user_id_type', 'session_id_type'}}``
        """
        data = {
            "email": email,
            "password": password,
            **drop_none(
                db_id=db_id,
                db_name=db_name,
                frontend_user_id=frontend_user_id,
                frontend_session_id=frontend_session_id,
            ),
        }
        return self._login("login/individual/", data)

    def login_service(
        self,
        name: str,
        password: str,
        db_id: str | None = None,
        frontend_user_id: Any = None,
        frontend_session_id: Any = None,
        db_name: str | None = None,
    ) -> dict[str, Any]:
        """Log in with a service account and a key of it; answers as ``login_individual``."""
        data = {
            "name": name,
            "password": password,
            **drop_none(
                db_id=db_id,
                db_name=db_name,
                frontend_user_id=frontend_user_id,
                frontend_session_id=frontend_session_id,
            ),
        }
        return self._login("login/service/", data)

    def login_refresh_token(
        self, refresh_token: str | None = None, db_id: str | None = None, db_name: str | None = None
    ) -> dict[str, Any]:
        """Get a new access token (and refresh token) from a refresh token.

        Without ``db_id``/``db_name`` the database bound at login is kept. The client calls
        this by itself when the access token has expired.
        """
        data = {
            "refresh_token": refresh_token or self._refresh_token,
            **drop_none(db_id=db_id or None, db_name=db_name),
        }
        return self._login("login/refresh-token/", data)

    def login_root(self, email: str, password: str) -> dict[str, Any]:
        """Deprecated: use ``login_individual`` without a database. Disables auto-refresh."""
        answer = self._login("login/root/", {"email": email, "password": password})
        self._database = None
        self._refresh_token = None
        return answer

    def login_jwt(self) -> dict[str, Any]:
        """What the current token grants.

        :returns: ``{'org_id', 'account': {'id', 'role'}, 'database'?: {...},
            'frontend_user_id'?, 'frontend_session_id'?}``
        """
        return dict(self._call("POST", "login/jwt/"))

    # --- accounts ------------------------------------------------------------------------------

    def create_individual_account(
        self,
        email: str,
        password: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        role: str = "backend",
        metadata: dict[str, Any] | None = None,
        email_redirect_url: str | None = None,
    ) -> dict[str, Any]:
        """Create an individual account in the organization. :returns: ``{'id'}``"""
        data = {
            "email": email,
            "role": role,
            **drop_none(
                password=password,
                first_name=first_name,
                last_name=last_name,
                metadata=metadata,
                email_redirect_url=email_redirect_url,
            ),
        }
        return dict(self._call("POST", "accounts/individual/", data=data))

    def partial_update_individual_account(
        self,
        email: str,
        password: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Change the password, names or metadata of an individual account (empty ones are kept)."""
        data: dict[str, Any] = {
            "email": email,
            **drop_none(
                password=password or None,
                first_name=first_name or None,
                last_name=last_name or None,
                metadata=metadata,
            ),
        }
        return self._call("PATCH", "accounts/individual/", data=data)  # type: ignore[no-any-return]

    def delete_individual_account(self, email: str) -> None:
        self._call("DELETE", "accounts/individual/", data={"email": email})

    def create_service_account(
        self,
        name: str,
        password: str | None = None,
        role: str = "frontend",
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a service account (for servers and frontends). :returns: ``{'id'}``"""
        data = {"name": name, "role": role, **drop_none(password=password, metadata=metadata)}
        return dict(self._call("POST", "accounts/service/", data=data))

    def delete_service_account(self, name: str) -> None:
        self._call("DELETE", "accounts/service/", data={"name": name})

    def create_service_account_key(
        self,
        name: str,
        expiration_timestamp: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new key (password) for a service account.

        :returns: ``{'id', 'key', 'created_timestamp', 'expiration_timestamp', 'metadata'}``
        """
        data = {
            "name": name,
            **drop_none(expiration_timestamp=expiration_timestamp, metadata=metadata),
        }
        return dict(self._call("POST", "accounts/service/keys/", data=data))

    def delete_service_account_key(self, key_id: str) -> None:
        self._call("DELETE", f"accounts/service/keys/{self.escape_url(key_id)}/")

    def list_accounts(self) -> dict[str, Any]:
        """:returns: ``{'individual_accounts': [...], 'service_accounts': [...]}``"""
        return dict(self._call("GET", "organizations/accounts/"))

    def send_reset_password_email(self, email: str, email_redirect_url: str) -> None:
        data = {"email": email, "email_redirect_url": email_redirect_url}
        self._transport.request(
            "POST",
            "accounts/individual/send-reset-password-email/",
            data=self._body(data),
            auth=False,
        )

    def set_or_reset_password(
        self, email: str, new_password: str, code: str, code_expiration_timestamp: float
    ) -> None:
        data = {
            "code": code,
            "email": email,
            "new_password": new_password,
            "code_expiration_timestamp": code_expiration_timestamp,
        }
        self._transport.request(
            "POST", "accounts/individual/reset/", data=self._body(data), auth=False
        )

    # --- organization --------------------------------------------------------------------------

    def get_organization(self) -> dict[str, Any]:
        """:returns: ``{'metadata': dict}``"""
        return dict(self._call("GET", "organizations/current/"))

    def create_or_partial_update_organization(
        self, metadata: dict[str, Any], preserve: bool | None = None
    ) -> None:
        """Deep-merge ``metadata`` into the organization's (RFC 7396; ``preserve`` appends)."""
        self._call(
            "PATCH",
            "organizations/current/",
            data={"metadata": metadata, **drop_none(preserve=preserve)},
        )

    def partial_update_organization_preview(
        self, metadata: dict[str, Any], preserve: bool | None = None
    ) -> dict[str, Any]:
        """:returns: ``{'metadata_old', 'metadata_new'}`` without changing anything."""
        data = {"metadata": metadata, **drop_none(preserve=preserve)}
        return dict(self._call("PATCH", "organizations/current/preview/", data=data))

    # --- databases -----------------------------------------------------------------------------

    def create_database(
        self,
        name: str,
        description: str,
        item_id_type: str,
        user_id_type: str,
        session_id_type: str | None = None,
        core_config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a database; log in again with its ``id`` to use it.

        :param item_id_type: e.g. ``uint32``, ``uuid``, ``hex32``, ``urlsafe64``, ``bytes16``
        :returns: ``{'id': str}``
        """
        data = {
            "name": name,
            "description": description,
            "item_id_type": item_id_type,
            "user_id_type": user_id_type,
            **drop_none(
                session_id_type=session_id_type or None, core_config=core_config, metadata=metadata
            ),
        }
        return dict(self._call("POST", "databases/", data=data))

    def get_all_databases(self, amt: int | None = None, page: int | None = None) -> dict[str, Any]:
        """:returns: ``{'databases': [{'id', 'name', ...}], 'has_next', 'next_page'}``"""
        return dict(self._call("GET", "databases/", params=drop_none(amt=amt, page=page or None)))

    def get_database(self) -> dict[str, Any]:
        """The current database, with ``counters`` ``{'rating', 'user', 'item'}``."""
        return dict(self._call("GET", "databases/current/"))

    def partial_update_database(
        self,
        description: str | None = None,
        core_config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        preserve: bool | None = None,
    ) -> None:
        data = drop_none(
            description=description, core_config=core_config, metadata=metadata, preserve=preserve
        )
        self._call("PATCH", "databases/current/", data=data)

    def partial_update_database_preview(
        self,
        description: str | None = None,
        core_config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        preserve: bool | None = None,
    ) -> dict[str, Any]:
        """:returns: ``{'metadata_old', 'metadata_new'}`` without changing anything."""
        data = drop_none(
            description=description, core_config=core_config, metadata=metadata, preserve=preserve
        )
        return dict(self._call("PATCH", "databases/current/preview/", data=data))

    def delete_database(self) -> None:
        """Delete the current database and everything in it."""
        self._call("DELETE", "databases/current/", timeout=max(self.bulk_timeout, 29.0))
