"""``recoapi demo movielens``: the MovieLens walkthrough end to end."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="run a demo (movielens)",
        description="Run the MovieLens walkthrough: upload ml-latest-small, wait for the model and "
        "print recommendations. Without --host an embedded server is started.",
    )
    parser.add_argument("name", choices=["movielens"])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="PATH",
        help="folder with movies.csv, ratings.csv and tags.csv (or the .zip); default: "
        "$RECOAPI_DATA_DIR/ml-latest-small, ../shared/data/ml-latest-small, the "
        "cache (~/.cache/recoapi), else a download from GroupLens",
    )
    parser.add_argument(
        "--host",
        default=None,
        metavar="URL",
        help="use this running server instead of an embedded one",
    )
    parser.add_argument(
        "--email", default=None, help="with --host: an account that may create databases"
    )
    parser.add_argument("--password", default=None, help="with --host: its password")
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bars"
    )
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    from recoapi.demo.movielens import DemoOptions
    from recoapi.demo.movielens import run as run_demo

    if args.host and not (args.email and args.password):
        args.parser.error("--host needs --email and --password")
    if not args.host and (args.email or args.password):
        args.parser.error("--email and --password go with --host")
    if (
        args.log_level != "debug"
    ):  # the demo's printout says what happens; keep server and httpx logs out
        for name in ("recoapi", "httpx", "uvicorn"):
            logging.getLogger(name).setLevel(
                max(logging.WARNING, logging.getLogger(name).getEffectiveLevel())
            )
    run_demo(
        DemoOptions(
            data=args.data,
            host=args.host,
            email=args.email,
            password=args.password,
            progress=args.progress,
        )
    )
    return 0
