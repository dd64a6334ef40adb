"""``recoapi eval``: offline evaluation against peer libraries (see EVALUATION.md)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("eval", help="evaluate the engine offline against peer libraries")
    parser.set_defaults(run=run)
    try:
        from recoapi.evaluation.cli import add_arguments
    except ImportError:  # the server-only install has no evaluation extras
        return
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from recoapi.evaluation.cli import run_from_args

    return run_from_args(args)
