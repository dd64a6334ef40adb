"""``recoapi eval``: arguments and entry point (the main CLI delegates here).

recoapi eval --dataset {ml-latest-small,ml-100k,PATH} [--protocol strong|temporal]
             [--seed N] [--folds K] --json OUT
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recoapi.evaluation.datasets import DATA_DIR_ENV, KNOWN_DATASETS
from recoapi.evaluation.protocols import PROTOCOLS
from recoapi.evaluation.runner import PEER_ORDER, run

__all__ = ["add_arguments", "build_parser", "main", "run_from_args"]

EXIT_OK = 0
EXIT_FAILURE = 1  # as the main `recoapi` command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``eval`` options to ``parser`` (a subcommand parser or a fresh one)."""
    parser.add_argument(
        "--dataset",
        required=True,
        metavar="{" + ",".join(KNOWN_DATASETS) + ",PATH}",
        help=(
            "a MovieLens dataset by name (looked up in $"
            f"{DATA_DIR_ENV}, default ../shared/data), or a folder in the ml-latest or "
            "ml-100k format, or a CSV of user,item,rating[,timestamp]"
        ),
    )
    parser.add_argument("--protocol", choices=PROTOCOLS, default="strong")
    parser.add_argument("--seed", type=int, default=0, help="seeds the split and every model")
    parser.add_argument(
        "--folds",
        type=int,
        default=1,
        help=(
            "repeat the protocol on K disjoint sets of held-out users and pool their test "
            "users (strong: up to 5, temporal: up to 2; default 1, the seed's single split)"
        ),
    )
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT", required=True)
    parser.add_argument(
        "--peers",
        default=",".join(PEER_ORDER),
        help="comma-separated peers to run (default: all of %(default)s)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help=f"overrides ${DATA_DIR_ENV}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoapi eval",
        description="Offline evaluation of the default engine against peer libraries.",
    )
    add_arguments(parser)
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the evaluation described by parsed arguments; return the exit code."""
    peers = [p.strip() for p in str(args.peers).split(",") if p.strip()]
    unknown = sorted(set(peers) - set(PEER_ORDER))
    if unknown:
        print(f"unknown peer(s) {', '.join(unknown)}: use {','.join(PEER_ORDER)}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        run(
            args.dataset,
            args.protocol,
            args.seed,
            args.json_out,
            folds=args.folds,
            peers=peers,
            data_dir=args.data_dir,
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"recoapi eval: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return run_from_args(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
