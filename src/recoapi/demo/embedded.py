"""A real recoapi server in a background thread, for the demo and for tests.

It runs the ASGI app of ``recoapi.api.create_app`` with uvicorn on a loopback socket
picked by the OS, with its own data directory (temporary by default) and a generated root
account. Needs the ``server`` extra.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

DEMO_EMAIL = "demo@recoapi.invalid"


class EmbeddedServer:
    """``with EmbeddedServer() as server: RecoClient(server.url) ...``

    :param data_dir: where the store lives (default: a temporary folder, removed on stop)
    :param settings: overrides for ``recoapi.config.Settings`` (e.g. ``access_token_seconds``)
    """

    def __init__(
        self, data_dir: Path | None = None, *, train_debounce: float = 0.5, **settings: Any
    ) -> None:
        self.email = DEMO_EMAIL
        self.password = secrets.token_urlsafe(18)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="recoapi-demo-")
            data_dir = Path(self._tmp.name)
        self.data_dir = data_dir
        self._overrides = {"train_debounce_seconds": train_debounce, **settings}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> EmbeddedServer:
        import uvicorn

        from recoapi.api import create_app
        from recoapi.config import Settings

        settings = Settings(
            data_dir=self.data_dir,
            secret_key=secrets.token_urlsafe(48),
            root_email=self.email,
            root_password=self.password,
            **self._overrides,
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="recoapi-embedded",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the embedded server did not start; run with --log-level debug")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
