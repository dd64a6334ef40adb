"""Application state built once at start-up and handed to every request (no globals)."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from recoapi.api.auth import Principal, TokenSigner, hash_password
from recoapi.config import Settings
from recoapi.errors import ForbiddenError, NotFoundError
from recoapi.store.base import AccountRecord, DatabaseRecord, Store

if TYPE_CHECKING:
    from recoapi.engine.runtime import EngineManager

log = logging.getLogger("recoapi")


class AppState:
    def __init__(self, settings: Settings, store: Store, engine: EngineManager) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.signer = TokenSigner(settings.secret_key, settings.access_token_seconds)
        self.executor = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="recoapi-io")
        self._databases: dict[str, DatabaseRecord] = {}

    def start(self) -> None:
        if self.settings.root_email and self.settings.root_password:
            ensure_root_account(self.store, self.settings.root_email, self.settings.root_password)
        self.store.fail_running_tasks("interrupted: the server stopped while this task ran")
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def bound_database(self, principal: Principal) -> DatabaseRecord:
        """The database the token was issued for; it must still exist in the caller's org."""
        if not principal.db_id:
            raise ForbiddenError(
                "this endpoint needs a database: log in again with db_id or db_name"
            )
        record = self._databases.get(principal.db_id)
        if record is None:
            record = self.store.get_database(principal.db_id)
            if record is None:
                raise NotFoundError("database", principal.db_id)
            self._databases[record.id] = record
        if record.org_id != principal.org_id:
            raise ForbiddenError("this token does not belong to the database's organization")
        if principal.frontend_raw and not principal.frontend_ids:
            from recoapi.core.idtypes import parse_id_type

            for entity, raw in principal.frontend_raw.items():
                id_type = parse_id_type(getattr(record, f"{entity}_id_type"))
                principal.frontend_ids[entity] = id_type.from_path(raw)
        return record

    def forget_database(self, db_id: str) -> None:
        self._databases.pop(db_id, None)


def ensure_root_account(store: Store, email: str, password: str) -> str:
    """Create the root account (and its organization), or reset its password."""
    email = email.strip().lower()
    existing = store.find_account(email=email)
    if existing is not None:
        store.update_account(existing.id, password_hash=hash_password(password), role="root")
        log.info("root account %s: password reset", email)
        return existing.id
    org_id = store.create_organization(email.split("@")[-1])
    account_id = uuid.uuid4().hex
    store.create_account(
        AccountRecord(
            account_id,
            org_id,
            "individual",
            "root",
            email=email,
            password_hash=hash_password(password),
        )
    )
    log.info("root account %s created", email)
    return account_id
