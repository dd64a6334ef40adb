"""The ``recoapi`` command line, run as a user runs it: a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any


def recoapi(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recoapi", *args], capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_every_command() -> None:
    result = recoapi("--help")
    assert result.returncode == 0
    for command in ("serve", "accounts", "demo", "eval", "doctor"):
        assert command in result.stdout


def test_doctor_reports_versions_blas_store_and_server(server: Any) -> None:
    result = recoapi("doctor", "--host", server.url)
    assert result.returncode == 0, result.stderr
    for key in ("recoapi", "numpy", "implicit", "blas", "store", "server"):
        assert any(line.startswith(key) for line in result.stdout.splitlines()), key
    assert "HTTP 200" in result.stdout


def test_doctor_never_prints_a_store_password() -> None:
    url = "postgresql://recoapi:hunter2secret@db.internal:5432/reco?schema=shop"
    result = recoapi("doctor", "--host", "http://127.0.0.1:9", "--store-url", url)
    assert result.returncode == 0, result.stderr
    assert "hunter2secret" not in result.stdout
    assert "postgresql://recoapi:***@db.internal:5432/reco?schema=shop" in result.stdout


def test_doctor_says_when_the_server_does_not_answer() -> None:
    result = recoapi("doctor", "--host", "http://127.0.0.1:9")
    assert result.returncode == 0 and "not answering" in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = recoapi(
        "accounts",
        "create-root",
        "--email",
        "a@b.c",
        "--password",
        "short",
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "at least 8 characters" in result.stderr


def test_demo_with_missing_data_fails_cleanly(tmp_path: Path) -> None:
    result = recoapi("demo", "movielens", "--data", str(tmp_path / "nowhere"), "--no-progress")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_usage_errors_exit_2() -> None:
    assert recoapi("serve", "--port", "not-a-number").returncode == 2
