"""Storage backends behind one protocol (``store.base.Store``)."""

from __future__ import annotations

from recoapi.config import Settings
from recoapi.store.base import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(settings: Settings) -> Store:
    """The store named by ``settings.store_url``; the embedded SQLite file by default."""
    url = settings.store_url
    if not url or url.startswith("sqlite"):
        from recoapi.store.sqlite import SQLiteStore

        path = url.split("://", 1)[1] if "://" in url else settings.sqlite_path
        return SQLiteStore(path)
    if url.startswith(POSTGRES_SCHEMES):
        from recoapi.store.postgres import PostgresStore  # psycopg is an optional extra

        return PostgresStore(url)
    raise ValueError(
        f"unsupported store URL {url!r}: use sqlite:///path or"
        " postgresql://user@host:port/dbname[?schema=name]"
    )


__all__ = ["Store", "open_store"]
