"""Server settings: built once from flags and environment, then passed down (no globals)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    secret_key: str
    store_url: str = ""  # empty: SQLite file in data_dir
    root_email: str | None = None
    root_password: str | None = None
    access_token_seconds: int = 3600
    train_debounce_seconds: float = 2.0
    train_min_new_events: int = 50_000
    max_body_bytes: int = 256 * 2**20
    worker_threads: int = 8

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "recoapi.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def load_secret_key(data_dir: Path, given: str | None) -> str:
    """The JWT signing key: given, else generated once and kept in the data dir (0600)."""
    if given:
        return given
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def settings_from_env(
    data_dir: str | Path, secret_key: str | None = None, **overrides: object
) -> Settings:
    data_dir = Path(data_dir)
    secret = load_secret_key(data_dir, secret_key or os.environ.get("RECOAPI_SECRET_KEY"))
    values: dict[str, object] = {
        "store_url": os.environ.get("RECOAPI_STORE_URL", ""),
        "root_email": os.environ.get("RECOAPI_ROOT_EMAIL"),
        "root_password": os.environ.get("RECOAPI_ROOT_PASSWORD"),
    }
    debounce = os.environ.get("RECOAPI_TRAIN_DEBOUNCE")
    if debounce:
        values["train_debounce_seconds"] = float(debounce)
    token_seconds = os.environ.get("RECOAPI_ACCESS_TOKEN_SECONDS")
    if token_seconds:
        values["access_token_seconds"] = int(token_seconds)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(data_dir=data_dir, secret_key=secret, **values)  # type: ignore[arg-type]
