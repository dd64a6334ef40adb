"""The PostgreSQL store: the SQLite store's semantics, with the data in a PostgreSQL server.

Selected by a store URL ``postgresql://user[:password]@host[:port]/dbname`` (or
``postgres://``; any libpq parameter may follow). A ``schema=NAME`` query parameter, parsed
here and not passed to libpq, puts every table in that schema (created if missing), so
several servers, or test runs, can share one PostgreSQL database without seeing each other.

Durability: every write method is one transaction, committed with ``synchronous_commit=on``
(set on each connection whatever the server default) before the method returns, so an
acknowledged write survives a crash of this process or of PostgreSQL.

Concurrency: a small pool of autocommit connections shared by all threads, rather than a
connection per thread (the server's worker pool and trainer threads come and go; each
connection is a PostgreSQL backend). Reads borrow any idle connection and run concurrently
with each other and with the writer. Writes are serialised by one lock in the process, as in
the SQLite store: dense indices are allocated in the in-memory vocabularies, so two
transactions must never assign them at once, and holding the lock across the transaction
lets a failure roll those caches back exactly. Hence one recoapi server per schema.

A restart of PostgreSQL kills every pooled connection: reads, and writes whose ``BEGIN``
fails, are tried once more on a fresh connection, and the idle ones are dropped.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.pq import TransactionStatus
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "the PostgreSQL store needs psycopg: pip install 'recoapi[postgres]'"
    ) from exc

from recoapi.core.vocab import Vocab
from recoapi.errors import StoreError, WrongData
from recoapi.store._postgres_data import DataMixin
from recoapi.store.base import (
    DATABASE_TABLES,
    AccountRecord,
    DatabaseRecord,
    RefreshTokenRecord,
    ServiceKeyRecord,
    TaskRecord,
    dumps,
)

MIGRATIONS = "migrations/postgres"
MIGRATION_LOCK = 0x7265636F617069  # pg_advisory_xact_lock key: servers starting together
DEFAULT_POOL_SIZE = 16  # the server's 8 worker threads, the trainer, and room to spare
_MISSING = object()
T = TypeVar("T")


def parse_store_url(url: str) -> tuple[str, str | None]:
    """The libpq URL without the ``schema`` parameter, and that schema (None if absent)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    if schemas and not schemas[-1]:
        raise ValueError(f"empty schema in store URL {url!r}")
    return urlunsplit(parts._replace(query=rest)), (schemas[-1] if schemas else None)


class _Pool:
    """At most ``size`` connections, reused by whichever thread asks; broken ones are dropped.

    ``close`` closes the idle connections; a later borrow opens a new one (the SQLite store
    also reconnects lazily after ``close``)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[psycopg.Connection[Any]] = []
        self._open = 0
        self._cond = threading.Condition()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._cond:
            while not self._idle and self._open >= self._size:
                self._cond.wait()
            conn = self._idle.pop() if self._idle else None
            if conn is None:
                self._open += 1
        if conn is None:
            try:
                conn = self._connect()
            except BaseException:
                self._release(None)
                raise
        try:
            yield conn
        finally:
            self._release(conn)

    def _release(self, conn: psycopg.Connection[Any] | None) -> None:
        healthy = (
            conn is not None
            and not conn.closed
            and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE
        )
        if conn is not None and not healthy:
            conn.close()
        with self._cond:
            if healthy:
                self._idle.append(conn)  # type: ignore[arg-type]
            else:
                self._open -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


class PostgresStore(DataMixin):
    name = "postgres"

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.conninfo, self.schema = parse_store_url(url)
        self._pool = _Pool(self._connect, pool_size)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._vocabs: dict[tuple[int, str], Vocab] = {}
        self._cache: dict[tuple[Any, ...], Any] = {}  # small read-mostly tables, see _cached
        self._cache_lock = threading.Lock()
        self._cache_generation = 0
        self._migrate()

    # --- connections and transactions ----------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        given = conninfo_to_dict(self.conninfo)
        defaults = {"connect_timeout": 10, "application_name": "recoapi"}
        options = {k: v for k, v in defaults.items() if k not in given}
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, **options)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {_where(self.conninfo)}: {exc}"
            ) from exc
        setup = sql.SQL("SET synchronous_commit = on; SET client_min_messages = warning")
        if self.schema is not None:
            setup += sql.SQL("; SET search_path TO {}").format(sql.Identifier(self.schema))
        try:
            conn.execute(setup)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The caller's transaction connection inside ``_tx``, else any pooled one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One write transaction: all or nothing, vocabulary additions included."""
        assert getattr(self._local, "conn", None) is None, "store transactions do not nest"
        with self._write_lock:
            sizes = {key: len(v) for key, v in self._vocabs.items()}
            try:
                with self._begun() as conn:
                    self._local.conn = conn
                    try:
                        yield conn
                    finally:
                        self._local.conn = None
            except BaseException as exc:
                self._roll_back_caches(sizes, exc)
                if isinstance(exc, psycopg.OperationalError):
                    self._pool.close()  # the server went away: the idle connections are dead
                if isinstance(exc, psycopg.Error):
                    raise _store_error(exc) from exc
                raise

    @contextmanager
    def _begun(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside ``BEGIN`` ... ``COMMIT``. ``BEGIN`` is the first thing
        sent: when it fails on a dead connection (PostgreSQL restarted), nothing happened yet,
        so it is tried once more on a fresh connection."""
        for retry in (True, False):
            with self._pool.connection() as conn:
                try:
                    conn.execute("BEGIN")
                except psycopg.OperationalError:
                    if not retry:
                        raise
                    self._pool.close()
                    continue
                try:
                    yield conn
                except BaseException:
                    if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
                        with suppress(psycopg.Error):
                            conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return

    def _roll_back_caches(self, sizes: dict[tuple[int, str], int], exc: BaseException) -> None:
        if isinstance(exc, psycopg.OperationalError):
            self._vocabs.clear()  # the commit may or may not have happened: read them again
        for key in list(self._vocabs):
            if key in sizes:
                self._vocabs[key].truncate(sizes[key])
            else:
                del self._vocabs[key]  # first loaded inside the failed transaction
        self._forget()

    def _read(self, run: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run a read; outside a transaction it is tried again once on a fresh connection
        when the connection failed (PostgreSQL restarted: every pooled one is dead)."""
        retry = getattr(self._local, "conn", None) is None
        while True:
            try:
                with self._connection() as conn:
                    return run(conn)
            except psycopg.OperationalError as exc:
                if not retry:
                    raise _store_error(exc) from exc
                retry = False
                self._pool.close()
            except psycopg.Error as exc:
                raise _store_error(exc) from exc

    def _query(self, query: Any, args: Any = ()) -> list[Any]:
        return self._read(lambda conn: conn.execute(query, args).fetchall())

    def _copy_out(self, statement: str, args: Any) -> bytes:
        """``COPY ... TO STDOUT`` (parameters bound client-side by psycopg)."""

        def run(conn: psycopg.Connection[Any]) -> bytes:
            with conn.cursor() as cur, cur.copy(statement, args) as copy:
                return b"".join(bytes(chunk) for chunk in copy)

        return self._read(run)

    def _cached(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        """A cached read; a write that commits meanwhile keeps the stale result out."""
        value = self._cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        generation = self._cache_generation
        value = load()
        with self._cache_lock:
            if generation == self._cache_generation:
                self._cache[key] = value
        return value

    def _forget(self, key: tuple[Any, ...] | None = None) -> None:
        """Drop one cached read (all of them without ``key``) after a write."""
        with self._cache_lock:
            self._cache_generation += 1
            if key is None:
                self._cache.clear()
            else:
                self._cache.pop(key, None)

    def _migrate(self) -> None:
        """Apply the migrations newer than the schema's version, in one transaction."""
        folder = resources.files("recoapi.store").joinpath(MIGRATIONS)
        scripts = sorted((int(f.name[:4]), f) for f in folder.iterdir() if f.name.endswith(".sql"))
        with self._tx() as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if self.schema is not None:
                c.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = c.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            for number, script in scripts:
                if number > version:
                    c.execute(script.read_text())
                    c.execute("INSERT INTO schema_version VALUES (%s)", (number,))

    def close(self) -> None:
        self._pool.close()

    # --- organizations and accounts ---------------------------------------------------------

    def create_organization(self, name: str) -> str:
        org_id = uuid.uuid4().hex
        with self._tx() as c:
            c.execute(
                "INSERT INTO organizations VALUES (%s, %s, '{}', %s)", (org_id, name, time.time())
            )
        return org_id

    def get_organization_metadata(self, org_id: str) -> dict[str, Any]:
        rows = self._query("SELECT metadata FROM organizations WHERE id = %s", (org_id,))
        return rows[0][0] if rows else {}

    def set_organization_metadata(self, org_id: str, metadata: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE organizations SET metadata = %s WHERE id = %s", (dumps(metadata), org_id)
            )

    _ACCOUNT_COLS = (
        "id, org_id, kind, role, email, name, password_hash, first_name, last_name, metadata"
    )

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        return AccountRecord(*row[:9], metadata=row[9])

    def create_account(self, account: AccountRecord) -> None:
        a = account
        with self._tx() as c:
            c.execute(
                f"INSERT INTO accounts ({self._ACCOUNT_COLS}, created)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
        with self._tx() as c:
            c.execute(_update("accounts", fields), (*fields.values(), account_id))

    def delete_account(self, account_id: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM accounts WHERE id = %s", (account_id,))

    def find_account(
        self, *, email: str | None = None, name: str | None = None
    ) -> AccountRecord | None:
        column, value = ("email", email.lower()) if email is not None else ("name", name)
        rows = self._query(
            f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE {column} = %s", (value,)
        )
        return self._account(rows[0]) if rows else None

    def get_account(self, account_id: str) -> AccountRecord | None:
        rows = self._query(
            f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE id = %s", (account_id,)
        )
        return self._account(rows[0]) if rows else None

    def list_accounts(self, org_id: str) -> list[AccountRecord]:
        rows = self._query(
            f"SELECT {self._ACCOUNT_COLS} FROM accounts WHERE org_id = %s ORDER BY created",
            (org_id,),
        )
        return [self._account(row) for row in rows]

    def create_service_key(
        self, account_id: str, key_hash: str, expires: float | None, metadata: dict[str, Any]
    ) -> ServiceKeyRecord:
        record = ServiceKeyRecord(uuid.uuid4().hex, account_id, time.time(), expires, metadata)
        with self._tx() as c:
            c.execute(
                "INSERT INTO service_keys VALUES (%s, %s, %s, %s, %s, %s)",
                (record.id, account_id, key_hash, record.created, expires, dumps(metadata)),
            )
        return record

    def list_service_keys(self, account_id: str) -> list[ServiceKeyRecord]:
        rows = self._query(
            "SELECT id, account_id, created, expires, metadata FROM service_keys"
            " WHERE account_id = %s ORDER BY created",
            (account_id,),
        )
        return [ServiceKeyRecord(*row) for row in rows]

    def find_service_key(self, account_id: str, key_hash: str) -> ServiceKeyRecord | None:
        rows = self._query(
            "SELECT id, account_id, created, expires, metadata FROM service_keys"
            " WHERE account_id = %s AND key_hash = %s",
            (account_id, key_hash),
        )
        return ServiceKeyRecord(*rows[0]) if rows else None

    def delete_service_key(self, org_id: str, key_id: str) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM service_keys WHERE id = %s AND account_id IN"
                " (SELECT id FROM accounts WHERE org_id = %s)",
                (key_id, org_id),
            )
            return cur.rowcount > 0

    def save_refresh_token(self, token_hash: str, record: RefreshTokenRecord) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM refresh_tokens WHERE expires < %s", (time.time(),))
            c.execute(
                "INSERT INTO refresh_tokens VALUES (%s, %s, %s, %s, %s)",
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
                "DELETE FROM refresh_tokens WHERE token_hash = %s"
                " RETURNING account_id, db_id, frontend, expires",
                (token_hash,),
            ).fetchone()
        return None if row is None else RefreshTokenRecord(*row)

    # --- databases ---------------------------------------------------------------------------

    _DB_COLS = (
        "id, n, org_id, name, description, item_id_type, user_id_type, session_id_type,"
        " core_config, metadata, created"
    )

    @staticmethod
    def _database(row: Any) -> DatabaseRecord:
        return DatabaseRecord(*row[:8], core_config=row[8], metadata=row[9], created=row[10])

    def create_database(self, record: DatabaseRecord) -> DatabaseRecord:
        r = record
        with self._tx() as c:
            c.execute(
                "INSERT INTO databases (id, org_id, name, description, item_id_type, user_id_type,"
                " session_id_type, core_config, metadata, created)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
        found = self.get_database(r.id)
        assert found is not None
        return found

    def get_database(self, db_id: str) -> DatabaseRecord | None:
        rows = self._query(f"SELECT {self._DB_COLS} FROM databases WHERE id = %s", (db_id,))
        return self._database(rows[0]) if rows else None

    def find_database(self, org_id: str, name: str) -> DatabaseRecord | None:
        rows = self._query(
            f"SELECT {self._DB_COLS} FROM databases WHERE org_id = %s AND name = %s",
            (org_id, name),
        )
        return self._database(rows[0]) if rows else None

    def list_databases(self, org_id: str, offset: int, limit: int) -> list[DatabaseRecord]:
        rows = self._query(
            f"SELECT {self._DB_COLS} FROM databases WHERE org_id = %s"
            " ORDER BY n LIMIT %s OFFSET %s",
            (org_id, limit, offset),
        )
        return [self._database(row) for row in rows]

    def update_database(self, db_id: str, **fields: Any) -> None:
        for name in ("core_config", "metadata"):
            if name in fields:
                fields[name] = dumps(fields[name])
        with self._tx() as c:
            c.execute(_update("databases", fields), (*fields.values(), db_id))

    def delete_database(self, db_id: str) -> None:
        record = self.get_database(db_id)
        if record is None:
            return
        with self._tx() as c:
            for table in DATABASE_TABLES:
                c.execute(
                    sql.SQL("DELETE FROM {} WHERE dbn = %s").format(sql.Identifier(table)),
                    (record.n,),
                )
            c.execute("DELETE FROM databases WHERE n = %s", (record.n,))
        self._vocabs.pop((record.n, "item"), None)
        self._vocabs.pop((record.n, "user"), None)
        self._forget()

    def counters(self, dbn: int) -> dict[str, int]:
        row = self._query(
            "SELECT (SELECT count(*) FROM ratings WHERE dbn = %(n)s),"
            " (SELECT count(*) FROM entities WHERE dbn = %(n)s AND entity = 'item'),"
            " (SELECT count(*) FROM entities WHERE dbn = %(n)s AND entity = 'user'),"
            " (SELECT count(*) FROM interactions WHERE dbn = %(n)s)",
            {"n": dbn},
        )[0]
        return dict(zip(("rating", "item", "user", "interaction"), map(int, row), strict=True))

    # --- tasks, models, scenarios --------------------------------------------------------------

    def save_task(self, task: TaskRecord) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO tasks VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (task_id) DO UPDATE SET status = excluded.status,"
                " progress = excluded.progress, end_time = excluded.end_time",
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
            " WHERE dbn = %s AND name = %s ORDER BY start_time DESC LIMIT %s OFFSET %s",
            (dbn, name, limit, offset),
        )
        return [TaskRecord(*row) for row in rows]

    def fail_running_tasks(self, reason: str) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE tasks SET status = 'FAILED', progress = %s, end_time = %s"
                " WHERE status IN ('RUNNING', 'REQUEST_SENT')",
                (reason, time.time()),
            )

    def save_model(
        self, dbn: int, model_id: str, algorithm: str, path: str, trained: float
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO models VALUES (%s, %s, %s, %s, %s)",
                (model_id, dbn, trained, algorithm, path),
            )

    def list_models(self, dbn: int) -> list[tuple[str, float, str, str]]:
        rows = self._query(
            "SELECT id, trained_timestamp, algorithm, path FROM models WHERE dbn = %s"
            " ORDER BY trained_timestamp DESC",
            (dbn,),
        )
        return [tuple(row) for row in rows]

    def save_scenario(self, dbn: int, reco_type: str, name: str, body: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO scenarios VALUES (%s, %s, %s, %s, FALSE)"
                " ON CONFLICT (dbn, reco_type, name) DO UPDATE SET body = excluded.body",
                (dbn, reco_type, name, dumps(body)),
            )
        self._forget(("scenarios", dbn))

    def get_scenario(self, dbn: int, reco_type: str, name: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT body FROM scenarios WHERE dbn = %s AND reco_type = %s AND name = %s",
            (dbn, reco_type, name),
        )
        return rows[0][0] if rows else None

    def list_scenarios(self, dbn: int) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._query(
            "SELECT reco_type, name, body FROM scenarios WHERE dbn = %s ORDER BY reco_type, name",
            (dbn,),
        )
        return [tuple(row) for row in rows]

    def delete_scenario(self, dbn: int, reco_type: str, name: str) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM scenarios WHERE dbn = %s AND reco_type = %s AND name = %s",
                (dbn, reco_type, name),
            )
        self._forget(("scenarios", dbn))
        return cur.rowcount > 0

    def set_default_scenario(self, dbn: int, reco_type: str, name: str | None) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE scenarios SET is_default = FALSE WHERE dbn = %s AND reco_type = %s",
                (dbn, reco_type),
            )
            if name is not None:
                c.execute(
                    "UPDATE scenarios SET is_default = TRUE"
                    " WHERE dbn = %s AND reco_type = %s AND name = %s",
                    (dbn, reco_type, name),
                )
        self._forget(("scenarios", dbn))

    def get_default_scenario(self, dbn: int, reco_type: str) -> str | None:
        """Cached per database: every recommendation asks (see ``list_properties``)."""
        defaults = self._cached(
            ("scenarios", dbn),
            lambda: dict(
                self._query(
                    "SELECT reco_type, name FROM scenarios WHERE dbn = %s AND is_default", (dbn,)
                )
            ),
        )
        return defaults.get(reco_type)


def _update(table: str, fields: dict[str, Any]) -> sql.Composed:
    """``UPDATE table SET a = %s, ... WHERE id = %s`` (column names quoted)."""
    sets = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in fields)
    return sql.SQL("UPDATE {} SET {} WHERE id = %s").format(sql.Identifier(table), sets)


def _store_error(exc: psycopg.Error) -> Exception:
    """A PostgreSQL failure in the server's terms. Text cannot hold NUL characters there
    (SQLite can): that is the caller's data, so it is a 400, not a 500."""
    if isinstance(exc, psycopg.DataError) and "NUL" in str(exc):
        return WrongData("text values cannot contain NUL (\\x00) characters")
    return StoreError(f"postgresql: {' '.join(str(exc).split())}")


def _where(conninfo: str) -> str:
    """host:port/dbname of a URL, for messages (never the password)."""
    parts = urlsplit(conninfo)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
