"""The embedded default store: one SQLite file in WAL mode under the data directory.

Durability: ``synchronous=FULL`` so an acknowledged write survives a crash of the process
or the machine. Concurrency: a connection per thread; writes are serialised by one lock
(SQLite allows one writer anyway) and run as ``BEGIN IMMEDIATE`` transactions, so a failed
bulk request leaves nothing behind. Dense-index vocabularies are cached in memory: this
process is the only writer of its data directory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from recoapi.core.vocab import Vocab
from recoapi.errors import StoreError
from recoapi.store._sqlite_data import DataMixin
from recoapi.store.base import (
    DATABASE_TABLES,
    AccountRecord,
    DatabaseRecord,
    RefreshTokenRecord,
    ServiceKeyRecord,
    TaskRecord,
    dumps,
)

SCHEMA_VERSION = 1


class SQLiteStore(DataMixin):
    name = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._vocabs: dict[tuple[int, str], Vocab] = {}
        self._cache: dict[tuple[Any, ...], Any] = {}  # small read-mostly tables, see users
        self._migrate()

    # --- connections and transactions ----------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing, vocabulary additions included."""
        with self._write_lock:
            conn = self._conn()
            sizes = {key: len(v) for key, v in self._vocabs.items()}
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                for key in list(self._vocabs):
                    if key in sizes:
                        self._vocabs[key].truncate(sizes[key])
                    else:  # first read inside this transaction: read it again next time
                        del self._vocabs[key]
                raise

    def _query(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite query failed: {exc}") from exc

    def _migrate(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        script = resources.files("recoapi.store").joinpath("migrations/0001_initial.sql")
        with self._write_lock:
            conn.executescript(
                f"BEGIN; {script.read_text()} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- organizations and accounts ---------------------------------------------------------

    def create_organization(self, name: str) -> str:
        org_id = uuid.uuid4().hex
        with self._tx() as c:
            c.execute(
                "INSERT INTO organizations VALUES (?, ?, '{}', ?)", (org_id, name, time.time())
            )
        return org_id

    def get_organization_metadata(self, org_id: str) -> dict[str, Any]:
        rows = self._query("SELECT metadata FROM organizations WHERE id = ?", (org_id,))
        return json.loads(rows[0][0]) if rows else {}

    def set_organization_metadata(self, org_id: str, metadata: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE organizations SET metadata = ? WHERE id = ?", (dumps(metadata), org_id)
            )

    _ACCOUNT_COLS = (
        "id, org_id, kind, role, email, name, password_hash, first_name, last_name, metadata"
    )

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        return AccountRecord(*row[:9], metadata=json.loads(row[9]))

    def create_account(self, account: AccountRecord) -> None:
        a = account
        with self._tx() as c:
            c.execute(
                f"INSERT INTO accounts ({self._ACCOUNT_COLS}, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    a.id,
                    a.org_id,
                    a.kind,
                    a.role,
                    a.email,
                    a.name,
                    a.password_hash,
                    a.first_name,
                    a.last_name,
                    dumps(a.metadata),
                    time.time(),
                ),
            )

    def update_account(self, account_id: str, **fields: Any) -> None:
        if "metadata" in fields:
            fields["metadata"] = dumps(fields["metadata"])
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as c:
            c.execute(f"UPDATE accounts SET {sets} WHERE id = ?", (*fields.values(), account_id))

    def delete_account(self, account_id: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM accounts WHERE id = ?", (account_id,))

    def find_account(
        self, *, email: str | None = None, name: str | None = None
    ) -> AccountRecord | None:
        column, value = ("email", email.lower()) if email is not None else ("name", name)
        rows = self._query(
            f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE {column} = ?", (value,)
        )
        return self._account(rows[0]) if rows else None

    def get_account(self, account_id: str) -> AccountRecord | None:
        rows = self._query(f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE id = ?", (account_id,))
        return self._account(rows[0]) if rows else None

    def list_accounts(self, org_id: str) -> list[AccountRecord]:
        rows = self._query(
            f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE org_id = ? ORDER BY created",
            (org_id,),
        )
        return [self._account(row) for row in rows]

    def create_service_key(
        self, account_id: str, key_hash: str, expires: float | None, metadata: dict[str, Any]
    ) -> ServiceKeyRecord:
        record = ServiceKeyRecord(uuid.uuid4().hex, account_id, time.time(), expires, metadata)
        with self._tx() as c:
            c.execute(
                "INSERT INTO service_keys VALUES (?, ?, ?, ?, ?, ?)",
                (record.id, account_id, key_hash, record.created, expires, dumps(metadata)),
            )
        return record

    def list_service_keys(self, account_id: str) -> list[ServiceKeyRecord]:
        rows = self._query(
            "SELECT id, account_id, created, expires, metadata FROM service_keys"
            " WHERE account_id = ?",
            (account_id,),
        )
        return [ServiceKeyRecord(*row[:4], json.loads(row[4])) for row in rows]

    def find_service_key(self, account_id: str, key_hash: str) -> ServiceKeyRecord | None:
        rows = self._query(
            "SELECT id, account_id, created, expires, metadata FROM service_keys"
            " WHERE account_id = ? AND key_hash = ?",
            (account_id, key_hash),
        )
        return ServiceKeyRecord(*rows[0][:4], json.loads(rows[0][4])) if rows else None

    def delete_service_key(self, org_id: str, key_id: str) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM service_keys WHERE id = ? AND account_id IN"
                " (SELECT id FROM accounts WHERE org_id = ?)",
                (key_id, org_id),
            )
            return cur.rowcount > 0

    def save_refresh_token(self, token_hash: str, record: RefreshTokenRecord) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM refresh_tokens WHERE expires < ?", (time.time(),))
            c.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?)",
                (
                    token_hash,
                    record.account_id,
                    record.db_id,
                    dumps(record.frontend),
                    record.expires,
                ),
            )

    def pop_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """Consume a refresh token (rotation: each one is good for a single refresh)."""
        with self._tx() as c:
            row = c.execute(
                "SELECT account_id, db_id, frontend, expires FROM refresh_tokens"
                " WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            c.execute("DELETE FROM refresh_tokens WHERE token_hash = ?", (token_hash,))
        if row is None:
            return None
        return RefreshTokenRecord(row[0], row[1], json.loads(row[2]), row[3])

    # --- databases ---------------------------------------------------------------------------

    _DB_COLS = (
        "id, n, org_id, name, description, item_id_type, user_id_type, session_id_type,"
        " core_config, metadata, created"
    )

    @staticmethod
    def _database(row: Any) -> DatabaseRecord:
        return DatabaseRecord(
            *row[:8], core_config=json.loads(row[8]), metadata=json.loads(row[9]), created=row[10]
        )

    def create_database(self, record: DatabaseRecord) -> DatabaseRecord:
        r = record
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO databases (id, org_id, name, description, item_id_type, user_id_type,"
                " session_id_type, core_config, metadata, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    r.id,
                    r.org_id,
                    r.name,
                    r.description,
                    r.item_id_type,
                    r.user_id_type,
                    r.session_id_type,
                    dumps(r.core_config),
                    dumps(r.metadata),
                    time.time(),
                ),
            )
            n = cur.lastrowid
        found = self.get_database(r.id)
        assert found is not None and found.n == n
        return found

    def get_database(self, db_id: str) -> DatabaseRecord | None:
        rows = self._query(f"SELECT {self._DB_COLS} FROM databases WHERE id = ?", (db_id,))
        return self._database(rows[0]) if rows else None

    def find_database(self, org_id: str, name: str) -> DatabaseRecord | None:
        rows = self._query(
            f"SELECT {self._DB_COLS} FROM databases WHERE org_id = ? AND name = ?", (org_id, name)
        )
        return self._database(rows[0]) if rows else None

    def list_databases(self, org_id: str, offset: int, limit: int) -> list[DatabaseRecord]:
        rows = self._query(
            f"SELECT {self._DB_COLS} FROM databases WHERE org_id = ? ORDER BY n LIMIT ? OFFSET ?",
            (org_id, limit, offset),
        )
        return [self._database(row) for row in rows]

    def update_database(self, db_id: str, **fields: Any) -> None:
        for name in ("core_config", "metadata"):
            if name in fields:
                fields[name] = dumps(fields[name])
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as c:
            c.execute(f"UPDATE databases SET {sets} WHERE id = ?", (*fields.values(), db_id))

    def delete_database(self, db_id: str) -> None:
        record = self.get_database(db_id)
        if record is None:
            return
        with self._tx() as c:
            for table in DATABASE_TABLES:
                c.execute(f"DELETE FROM {table} WHERE dbn = ?", (record.n,))
            c.execute("DELETE FROM databases WHERE n = ?", (record.n,))
        self._vocabs.pop((record.n, "item"), None)
        self._vocabs.pop((record.n, "user"), None)
        self._cache.clear()

    def counters(self, dbn: int) -> dict[str, int]:
        def count(sql: str) -> int:
            return int(self._query(sql, (dbn,))[0][0])

        return {
            "rating": count("SELECT COUNT(*) FROM ratings WHERE dbn = ?"),
            "item": count("SELECT COUNT(*) FROM entities WHERE dbn = ? AND entity = 'item'"),
            "user": count("SELECT COUNT(*) FROM entities WHERE dbn = ? AND entity = 'user'"),
            "interaction": count("SELECT COUNT(*) FROM interactions WHERE dbn = ?"),
        }

    # --- tasks, models, scenarios --------------------------------------------------------------

    def save_task(self, task: TaskRecord) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO tasks VALUES (?,?,?,?,?,?,?) ON CONFLICT (task_id) DO UPDATE SET"
                " status = excluded.status, progress = excluded.progress,"
                " end_time = excluded.end_time",
                (
                    task.task_id,
                    task.dbn,
                    task.name,
                    task.start_time,
                    task.end_time,
                    task.status,
                    task.progress,
                ),
            )

    def list_tasks(self, dbn: int, name: str, offset: int, limit: int) -> list[TaskRecord]:
        rows = self._query(
            "SELECT task_id, dbn, name, start_time, status, progress, end_time FROM tasks"
            " WHERE dbn = ? AND name = ? ORDER BY start_time DESC LIMIT ? OFFSET ?",
            (dbn, name, limit, offset),
        )
        return [TaskRecord(*row) for row in rows]

    def fail_running_tasks(self, reason: str) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE tasks SET status = 'FAILED', progress = ?, end_time = ?"
                " WHERE status IN ('RUNNING', 'REQUEST_SENT')",
                (reason, time.time()),
            )

    def save_model(
        self, dbn: int, model_id: str, algorithm: str, path: str, trained: float
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO models VALUES (?,?,?,?,?)", (model_id, dbn, trained, algorithm, path)
            )

    def list_models(self, dbn: int) -> list[tuple[str, float, str, str]]:
        rows = self._query(
            "SELECT id, trained_timestamp, algorithm, path FROM models WHERE dbn = ?"
            " ORDER BY trained_timestamp DESC",
            (dbn,),
        )
        return [tuple(row) for row in rows]

    def save_scenario(self, dbn: int, reco_type: str, name: str, body: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO scenarios VALUES (?,?,?,?,0) ON CONFLICT (dbn, reco_type, name)"
                " DO UPDATE SET body = excluded.body",
                (dbn, reco_type, name, dumps(body)),
            )
        self._cache.pop(("scenarios", dbn), None)

    def get_scenario(self, dbn: int, reco_type: str, name: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT body FROM scenarios WHERE dbn = ? AND reco_type = ? AND name = ?",
            (dbn, reco_type, name),
        )
        return json.loads(rows[0][0]) if rows else None

    def list_scenarios(self, dbn: int) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._query(
            "SELECT reco_type, name, body FROM scenarios WHERE dbn = ? ORDER BY reco_type, name",
            (dbn,),
        )
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def delete_scenario(self, dbn: int, reco_type: str, name: str) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM scenarios WHERE dbn = ? AND reco_type = ? AND name = ?",
                (dbn, reco_type, name),
            )
        self._cache.pop(("scenarios", dbn), None)
        return cur.rowcount > 0

    def set_default_scenario(self, dbn: int, reco_type: str, name: str | None) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE scenarios SET is_default = 0 WHERE dbn = ? AND reco_type = ?",
                (dbn, reco_type),
            )
            if name is not None:
                c.execute(
                    "UPDATE scenarios SET is_default = 1"
                    " WHERE dbn = ? AND reco_type = ? AND name = ?",
                    (dbn, reco_type, name),
                )
        self._cache.pop(("scenarios", dbn), None)

    def get_default_scenario(self, dbn: int, reco_type: str) -> str | None:
        """Cached per database: every recommendation asks (see ``list_properties``)."""
        key = ("scenarios", dbn)
        if key not in self._cache:
            rows = self._query(
                "SELECT reco_type, name FROM scenarios WHERE dbn = ? AND is_default = 1", (dbn,)
            )
            self._cache[key] = {row[0]: row[1] for row in rows}
        return self._cache[key].get(reco_type)
