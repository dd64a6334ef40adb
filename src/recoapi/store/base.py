"""The storage interface: one protocol that every backend implements completely.

The HTTP layer and the engine only see this module. Keys handed to a store are already in
their storage form (``IdType.to_db``); entity indices are the dense ones of ``core.vocab``.
Every write method is one transaction: it either commits everything or nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from recoapi.core.vocab import Vocab

# Every table holding one database's data (column ``dbn``): deleting a database empties
# them all, in both stores.
DATABASE_TABLES = (
    "ratings",
    "interactions",
    "entities",
    "properties",
    "resolved_sessions",
    "tasks",
    "models",
    "scenarios",
)


@dataclass(frozen=True)
class DatabaseRecord:
    id: str
    n: int
    org_id: str
    name: str
    description: str
    item_id_type: str
    user_id_type: str
    session_id_type: str
    core_config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "item_id_type": self.item_id_type,
            "user_id_type": self.user_id_type,
            "session_id_type": self.session_id_type,
        }


@dataclass(frozen=True)
class AccountRecord:
    id: str
    org_id: str
    kind: str  # individual | service
    role: str
    email: str | None = None
    name: str | None = None
    password_hash: str | None = None
    first_name: str = ""
    last_name: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceKeyRecord:
    id: str
    account_id: str
    created: float
    expires: float | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class RefreshTokenRecord:
    account_id: str
    db_id: str | None
    frontend: dict[str, str]
    expires: float


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    dbn: int
    name: str
    start_time: float
    status: str
    progress: str = ""
    end_time: float | None = None

    def to_public(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "name": self.name,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "status": self.status,
            "progress": self.progress,
        }


@dataclass(frozen=True)
class RatingsArrays:
    """Ratings as aligned arrays (dense indices)."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray

    def __len__(self) -> int:
        return len(self.user)


@dataclass(frozen=True)
class InteractionsArrays:
    subject: np.ndarray  # user indices (int64) or session keys (object)
    item: np.ndarray
    type: np.ndarray  # object (str)
    timestamp: np.ndarray
    properties: list[Any]
    seq: np.ndarray  # stable order, used as a cursor

    def __len__(self) -> int:
        return len(self.item)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class Store(Protocol):
    """Everything recoapi persists. See ``store/sqlite.py`` for the reference backend."""

    name: str

    def close(self) -> None: ...

    # organizations and accounts
    def create_organization(self, name: str) -> str: ...
    def get_organization_metadata(self, org_id: str) -> dict[str, Any]: ...
    def set_organization_metadata(self, org_id: str, metadata: dict[str, Any]) -> None: ...
    def create_account(self, account: AccountRecord) -> None: ...
    def update_account(self, account_id: str, **fields: Any) -> None: ...
    def delete_account(self, account_id: str) -> None: ...
    def find_account(
        self, *, email: str | None = None, name: str | None = None
    ) -> AccountRecord | None: ...
    def get_account(self, account_id: str) -> AccountRecord | None: ...
    def list_accounts(self, org_id: str) -> list[AccountRecord]: ...
    def create_service_key(
        self, account_id: str, key_hash: str, expires: float | None, metadata: dict[str, Any]
    ) -> ServiceKeyRecord: ...
    def list_service_keys(self, account_id: str) -> list[ServiceKeyRecord]: ...
    def find_service_key(self, account_id: str, key_hash: str) -> ServiceKeyRecord | None: ...
    def delete_service_key(self, org_id: str, key_id: str) -> bool: ...
    def save_refresh_token(self, token_hash: str, record: RefreshTokenRecord) -> None: ...
    def pop_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None: ...

    # databases
    def create_database(self, record: DatabaseRecord) -> DatabaseRecord: ...
    def get_database(self, db_id: str) -> DatabaseRecord | None: ...
    def find_database(self, org_id: str, name: str) -> DatabaseRecord | None: ...
    def list_databases(self, org_id: str, offset: int, limit: int) -> list[DatabaseRecord]: ...
    def update_database(self, db_id: str, **fields: Any) -> None: ...
    def delete_database(self, db_id: str) -> None: ...
    def counters(self, dbn: int) -> dict[str, int]: ...

    # properties
    def create_property(
        self, dbn: int, entity: str, name: str, value_type: str, repeated: bool, indexed: bool
    ) -> None: ...
    def list_properties(self, dbn: int, entity: str) -> list[tuple[str, str, bool, bool]]: ...
    def delete_property(self, dbn: int, entity: str, name: str) -> None: ...

    # items and users ("entities")
    def vocab(self, dbn: int, entity: str) -> Vocab: ...
    def ensure_indices(self, dbn: int, entity: str, keys: np.ndarray) -> np.ndarray: ...
    def write_entities(
        self, dbn: int, entity: str, keys: list[Any], props: list[dict[str, Any]], *, replace: bool
    ) -> np.ndarray: ...
    def get_entities(
        self, dbn: int, entity: str, indices: np.ndarray
    ) -> dict[int, dict[str, Any]]: ...
    def page_entities(
        self, dbn: int, entity: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]: ...
    def all_entity_props(self, dbn: int, entity: str) -> dict[int, dict[str, Any]]: ...
    def clear_entities(
        self, dbn: int, entity: str, indices: np.ndarray, *, everything: bool = False
    ) -> None: ...

    # ratings
    def upsert_ratings(
        self,
        dbn: int,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        timestamps: np.ndarray,
    ) -> RatingsArrays: ...
    def delete_rating(self, dbn: int, user: int, item: int) -> bool: ...
    def delete_user_ratings(self, dbn: int, user: int) -> None: ...
    def user_ratings(self, dbn: int, user: int) -> RatingsArrays: ...
    def page_ratings(self, dbn: int, after: tuple[int, int], limit: int) -> RatingsArrays: ...
    def all_ratings(self, dbn: int) -> RatingsArrays: ...

    # interactions and sessions
    def insert_interactions(
        self, dbn: int, subject: str, rows: InteractionsArrays
    ) -> InteractionsArrays: ...
    def page_interactions(
        self,
        dbn: int,
        subject: str,
        *,
        after: int,
        limit: int,
        subject_key: Any = None,
        start: float | None = None,
        end: float | None = None,
        types: list[str] | None = None,
    ) -> InteractionsArrays: ...
    def all_interactions(self, dbn: int, subject: str) -> InteractionsArrays: ...
    def resolve_session(self, dbn: int, session_key: Any, user: int, ts: float) -> bool: ...
    def page_resolved_sessions(
        self, dbn: int, users: np.ndarray | None, after: int, limit: int
    ) -> list[tuple[Any, int, float]]: ...

    # background tasks, models, scenarios
    def save_task(self, task: TaskRecord) -> None: ...
    def list_tasks(self, dbn: int, name: str, offset: int, limit: int) -> list[TaskRecord]: ...
    def fail_running_tasks(self, reason: str) -> None: ...
    def save_model(
        self, dbn: int, model_id: str, algorithm: str, path: str, trained: float
    ) -> None: ...
    def list_models(self, dbn: int) -> list[tuple[str, float, str, str]]: ...
    def save_scenario(self, dbn: int, reco_type: str, name: str, body: dict[str, Any]) -> None: ...
    def get_scenario(self, dbn: int, reco_type: str, name: str) -> dict[str, Any] | None: ...
    def list_scenarios(self, dbn: int) -> list[tuple[str, str, dict[str, Any]]]: ...
    def delete_scenario(self, dbn: int, reco_type: str, name: str) -> bool: ...
    def set_default_scenario(self, dbn: int, reco_type: str, name: str | None) -> None: ...
    def get_default_scenario(self, dbn: int, reco_type: str) -> str | None: ...
