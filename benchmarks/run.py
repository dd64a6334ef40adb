"""``make bench``: the speed figures of BENCHMARKS.md, each with its baseline in the same run.

1. HTTP stack overhead: median latency of one request to a bare ASGI app, and to recoapi's
   ``/healthz`` and user-to-items routes, all served by uvicorn in a child process on this
   machine and called from this process over keep-alive loopback connections.
2. Bulk ratings: a 100,836-rating ``PUT ratings-bulk/`` (ml-latest-small, pkl body) stored,
   against a bare ``executemany`` of the same rows into a plain SQLite table; and, when
   PostgreSQL answers at ``RECOAPI_BENCH_POSTGRES_URL`` (default the local ``test``
   database), the same request on the PostgreSQL store against a bare ``COPY`` of the rows
   into a plain table with the same primary key.
3. In-process recommendation: ``EngineManager.user_items`` on ml-latest-small, against a bare
   ``numpy.argpartition`` top-10 over the same number of scores.

Run ``python -m benchmarks.run [--markdown BENCHMARKS.md]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from movielens import load  # noqa: E402
from server import ROOT_EMAIL, ROOT_PASSWORD, ServerProcess, free_port  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ml-latest-small"
POSTGRES_URL = os.environ.get(
    "RECOAPI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BARE_APP = "benchmarks.bare_asgi:app"


def median_ms(fn: Any, repeat: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            BARE_APP,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("bare ASGI app did not start")


def upload_movielens(server: ServerProcess, serializer: str = "pkl") -> tuple[Any, float]:
    """Upload ml-latest-small with the reference client; returns it and the seconds the
    server took to answer the 100,836-rating PUT (body serialised beforehand)."""
    from xminds.api.client import CrossingMindsApiClient

    ml = load(DATA)
    client = CrossingMindsApiClient(serializer=serializer, host=server.url)
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db = client.create_database(f"bench-{time.time_ns()}", "bench", "uint32", "uint32")
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db["id"])
    client.create_item_property("year", "int16")
    client.create_item_property("genres", "unicode18", repeated=True)
    client.create_item_property("tags", "unicode20", repeated=True)
    client.create_or_update_items_bulk(
        ml.items, [{"name": "genres", "array": ml.genres}, {"name": "tags", "array": ml.tags}]
    )
    body = zlib.compress(pickle.dumps({"ratings": ml.ratings}, protocol=4))
    headers = {
        "Authorization": f"Bearer {client.api.jwt_token}",
        "Content-Type": "application/xminds-pkl",
        "Accept": "application/xminds-pkl",
        "Content-Encoding": "gzip",
    }
    with httpx.Client(timeout=60) as http:
        start = time.perf_counter()
        response = http.put(server.url + "/v1/ratings-bulk/", content=body, headers=headers)
        elapsed = time.perf_counter() - start
    assert response.status_code == 204, response.text
    return client, elapsed


def bench_http(repeat: int) -> dict[str, Any]:
    bare, bare_url = start_bare()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), debounce=0.2).start()
        try:
            client, _ = upload_movielens(server)
            client.wait_until_ready(timeout=300, sleep=0.5)
            token = client.api.jwt_token
            with httpx.Client() as http:
                auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                results = {
                    "bare ASGI app (GET /)": median_ms(lambda: http.get(bare_url), repeat),
                    "recoapi GET /healthz": median_ms(
                        lambda: http.get(server.url + "/healthz"), repeat
                    ),
                    "recoapi GET user-to-items amt=10 (JSON)": median_ms(
                        lambda: http.get(
                            server.url + "/v1/recommendation/users/10/items/?amt=10", headers=auth
                        ),
                        repeat,
                    ),
                    "recoapi GET item-to-items amt=10 (JSON)": median_ms(
                        lambda: http.get(
                            server.url + "/v1/recommendation/items/50/items/?amt=10", headers=auth
                        ),
                        repeat,
                    ),
                }
        finally:
            server.stop()
            bare.terminate()
            bare.wait()
    base = results["bare ASGI app (GET /)"]
    return {
        name: {"median_ms": round(ms, 3), "ratio": round(ms / base, 2)}
        for name, ms in results.items()
    }


def bench_bulk(repeat: int) -> dict[str, Any]:
    ml = load(DATA)
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            server = ServerProcess(Path(tmp), debounce=600).start()
            try:
                _, elapsed = upload_movielens(server)
            finally:
                server.stop()
            times.append(elapsed)
    bare = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(f"{tmp}/bare.db", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(
                "CREATE TABLE r (u INTEGER, i INTEGER, rating REAL, ts REAL, PRIMARY KEY (u, i))"
                " WITHOUT ROWID"
            )
            rows = ml.ratings
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO r VALUES (?,?,?,?)",
                zip(
                    rows["user_id"].tolist(),
                    rows["item_id"].tolist(),
                    rows["rating"].astype(float).tolist(),
                    rows["timestamp"].tolist(),
                    strict=True,
                ),
            )
            conn.execute("COMMIT")
            bare.append(time.perf_counter() - start)
            conn.close()
    ours, base = statistics.median(times), statistics.median(bare)
    return {
        "ratings": len(ml.ratings),
        "recoapi PUT /v1/ratings-bulk/ (pkl, one request) median_s": round(ours, 3),
        "bare sqlite executemany median_s": round(base, 3),
        "ratio": round(ours / base, 2),
    }


def _postgres_ready() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL to measure"
        return False


def bench_bulk_postgres(repeat: int) -> dict[str, Any]:
    """The same upload on the PostgreSQL store (a fresh schema per run, dropped after)."""
    import psycopg
    from psycopg import sql

    ml = load(DATA)
    times, bare = [], []
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        for _ in range(repeat):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            separator = "&" if "?" in POSTGRES_URL else "?"
            env = {"RECOAPI_STORE_URL": f"{POSTGRES_URL}{separator}schema={schema}"}
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    server = ServerProcess(Path(tmp), debounce=600, extra_env=env).start()
                    try:
                        _, elapsed = upload_movielens(server)
                    finally:
                        server.stop()
                times.append(elapsed)
                bare.append(_bare_copy(admin, schema, ml.ratings))
            finally:
                admin.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
    ours, base = statistics.median(times), statistics.median(bare)
    return {
        "recoapi PUT /v1/ratings-bulk/ on PostgreSQL (pkl, one request) median_s": round(ours, 3),
        "bare PostgreSQL COPY into a keyed table median_s": round(base, 3),
        "ratio (PostgreSQL)": round(ours / base, 2),
    }


def _bare_copy(conn: Any, schema: str, rows: np.ndarray) -> float:
    from psycopg import sql

    table = sql.Identifier(schema, "bare_ratings")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (u integer, i integer, rating real, ts double precision,"
            " PRIMARY KEY (u, i))"
        ).format(table)
    )
    text = "".join(
        f"{u}\t{i}\t{r}\t{t}\n"
        for u, i, r, t in zip(
            rows["user_id"].tolist(),
            rows["item_id"].tolist(),
            rows["rating"].astype(float).tolist(),
            rows["timestamp"].tolist(),
            strict=True,
        )
    )
    start = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} FROM STDIN").format(table)) as copy:
            copy.write(text)
    return time.perf_counter() - start


def bench_engine(repeat: int) -> dict[str, Any]:
    from recoapi.api.factory import create_app
    from recoapi.config import settings_from_env
    from recoapi.engine.runtime import RecoQuery

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), debounce=0.2).start()
        try:
            client, _ = upload_movielens(server)
            client.wait_until_ready(timeout=300, sleep=0.5)
            db_id = client.get_database()["id"]
        finally:
            server.stop()
        app = create_app(settings_from_env(tmp))
        state = app.state
        record = state.store.get_database(db_id)
        engine = state.engine
        from recoapi.store.specs import load_specs

        specs = load_specs(state.store, record.n, "item")
        users = list(range(len(state.store.vocab(record.n, "user"))))
        query = RecoQuery(amt=10, exclude_rated=True)
        engine.user_items(record, 0, query, specs)
        position = iter(range(10**9))

        def one_user() -> None:
            engine.user_items(record, users[next(position) % len(users)], query, specs)

        def one_item() -> None:
            engine.similar_items(record, next(position) % 9000, query, specs)

        n_items = engine.model_info(record).n_items
        scores = np.random.default_rng(0).random(n_items, dtype=np.float32)
        ours = median_ms(one_user, repeat)
        similar = median_ms(one_item, repeat)
        bare = median_ms(lambda: np.argpartition(-scores, 10)[:10], repeat)
    return {
        "items": n_items,
        "user-to-items median_ms": round(ours, 3),
        "item-to-items median_ms": round(similar, 3),
        "bare argpartition top-10 median_ms": round(bare, 4),
        "ratio user/bare": round(ours / bare, 1),
    }


def markdown(results: dict[str, Any], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` on {results['machine']} ({results['date']}). "
        "Every figure is a median over repeated runs, next to a baseline measured in the same run.",
        "",
    ]
    lines += [
        "## HTTP stack overhead (uvicorn, loopback, keep-alive, one request at a time)",
        "",
        "| request | median ms | ratio to bare ASGI |",
        "|---|---|---|",
    ]
    for name, row in results["http"].items():
        lines.append(f"| {name} | {row['median_ms']} | {row['ratio']} |")
    lines += [
        "",
        "The HTTP recommendation rows ask for user 10 and item 50 every time; the in-process "
        "rows below rotate over all users and items, so they are medians over profiles of "
        "every size.",
    ]
    bulk = results["bulk"]
    lines += [
        "",
        "## Bulk ratings upload (ml-latest-small)",
        "",
        "| measurement | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in bulk.items()]
    eng = results["engine"]
    lines += [
        "",
        "## In-process recommendation (ml-latest-small, trained default model)",
        "",
        "| measurement | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in eng.items()]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    results = {
        "machine": (
            f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
        ),
        "date": time.strftime("%Y-%m-%d"),
        "http": bench_http(args.repeat),
        "bulk": {**bench_bulk(3), **(bench_bulk_postgres(3) if _postgres_ready() else {})},
        "engine": bench_engine(args.repeat * 4),
    }
    print(json.dumps(results, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(results, "make bench"))


if __name__ == "__main__":
    main()
