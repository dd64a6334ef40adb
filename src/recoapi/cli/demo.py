"""``recoapi demo movielens``: the MovieLens walkthrough end to end."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("demo", help="run a demo (movielens)")
    parser.add_argument("name", choices=["movielens"])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("the demo is not written yet")
