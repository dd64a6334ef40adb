"""``recoapi serve``: run the API server (uvicorn) on the embedded store by default."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_DATA_DIR = ".recoapi/data"


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the API server")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_store_arguments(parser)
    parser.add_argument(
        "--secret-key",
        default=None,
        help="JWT signing key (env RECOAPI_SECRET_KEY; default: generated into the data dir)",
    )
    parser.add_argument(
        "--train-debounce",
        type=float,
        default=None,
        help=(
            "seconds without writes before training starts (default 2; env RECOAPI_TRAIN_DEBOUNCE)"
        ),
    )
    parser.set_defaults(run=run)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help=f"where the SQLite store, models and secret live (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--store-url",
        default=None,
        help="store to use instead of the embedded SQLite file (env RECOAPI_STORE_URL)",
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from recoapi.api import create_app
    from recoapi.config import settings_from_env

    settings = settings_from_env(
        args.data_dir,
        args.secret_key,
        store_url=args.store_url,
        train_debounce_seconds=args.train_debounce,
    )
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return 0
