"""The ``recoapi`` command: serve, accounts, demo, eval, doctor.

Errors end as one line on stderr and an exit code: 2 for usage, 1 for failures.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from recoapi import __version__
from recoapi.cli import accounts, demo, doctor, evaluate, serve

COMMANDS = (serve, accounts, demo, evaluate, doctor)


class CommandError(Exception):
    """A failure to report in one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoapi", description="Self-hosted recommendation API server."
    )
    parser.add_argument("--version", action="version", version=f"recoapi {__version__}")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        if args.log_level == "debug":
            raise
        print(f"recoapi {args.command}: error: {_describe(exc)}", file=sys.stderr)
        return 1


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())
