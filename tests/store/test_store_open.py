"""``open_store`` picks the backend from the URL; PostgreSQL schemas keep stores apart."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from storekit import Place, new_db

from recoapi.config import Settings
from recoapi.errors import StoreError
from recoapi.store import open_store


def settings(url: str, data_dir: Path = Path("/nonexistent")) -> Settings:
    return Settings(data_dir=data_dir, secret_key="x", store_url=url)


def test_the_url_picks_the_backend(place: Place) -> None:
    store = open_store(settings(place.url))
    assert store.name == place.backend
    store.close()


def test_default_is_the_sqlite_file_of_the_data_dir(tmp_path: Path) -> None:
    store = open_store(settings("", tmp_path))
    new_db(store)
    store.close()
    assert (tmp_path / "recoapi.sqlite3").exists()


def test_unknown_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        open_store(settings("mysql://localhost/db"))


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "recoapi.store.postgres", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'recoapi\[postgres\]'"):
        open_store(settings("postgresql://postgres@127.0.0.1/test"))


def test_unreachable_server_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(
        StoreError, match="cannot connect to PostgreSQL at 127.0.0.1:1/test"
    ) as info:
        open_store(settings("postgresql://postgres:secret@127.0.0.1:1/test"))
    assert "secret" not in str(info.value)  # never the password


def test_url_parameters() -> None:
    pytest.importorskip("psycopg")
    from recoapi.store.postgres import parse_store_url

    url = "postgres://u@h/db?sslmode=disable&schema=s1&application_name=x"
    assert parse_store_url(url) == ("postgres://u@h/db?sslmode=disable&application_name=x", "s1")
    assert parse_store_url("postgresql://u@h/db") == ("postgresql://u@h/db", None)
