"""Run the real ``recoapi serve`` in a subprocess on a free loopback port.

Servers use the SQLite file of their data directory, unless ``RECOAPI_TEST_STORE_URL``
names a PostgreSQL server: then each data directory gets a schema of its own there (named
after it, so a restarted server finds its data), dropped at the end of the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT_EMAIL = "root@example.com"
ROOT_PASSWORD = "correct horse battery staple"
TEST_STORE_URL = os.environ.get("RECOAPI_TEST_STORE_URL", "")
_RUN = uuid.uuid4().hex[:8]
_SCHEMAS: set[str] = set()


def _schema(data_dir: Path) -> str:
    return f"recoapi_test_{_RUN}_{hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:12]}"


def store_env(data_dir: Path) -> dict[str, str]:
    """The ``RECOAPI_STORE_URL`` of a server or CLI run on ``data_dir`` (none: SQLite)."""
    if not TEST_STORE_URL:
        return {}
    schema = _schema(data_dir)
    _SCHEMAS.add(schema)
    separator = "&" if "?" in TEST_STORE_URL else "?"
    return {"RECOAPI_STORE_URL": f"{TEST_STORE_URL}{separator}schema={schema}"}


def store_rows(data_dir: Path, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of ``query`` (``?`` placeholders) read straight from the store of ``data_dir``."""
    if not TEST_STORE_URL:
        uri = f"file:{data_dir / 'recoapi.sqlite3'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return conn.execute(query, args).fetchall()
    import psycopg
    from psycopg import sql

    with psycopg.connect(TEST_STORE_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(_schema(data_dir))))
        return conn.execute(query.replace("?", "%s"), args).fetchall()


def drop_test_schemas() -> None:
    if not _SCHEMAS:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(TEST_STORE_URL, autocommit=True) as conn:
        for schema in sorted(_SCHEMAS):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    _SCHEMAS.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self, data_dir: Path, *, debounce: float = 0.3, extra_env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.debounce = debounce
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_handle: Any = None
        self.log_path = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        env = {
            **os.environ,
            "RECOAPI_ROOT_EMAIL": ROOT_EMAIL,
            "RECOAPI_ROOT_PASSWORD": ROOT_PASSWORD,
            "RECOAPI_TRAIN_DEBOUNCE": str(self.debounce),
            **store_env(self.data_dir),
            **self.extra_env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self._log_handle = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "recoapi",
                "--log-level",
                "warning",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
