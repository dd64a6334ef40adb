"""``recoapi accounts``: manage accounts offline, straight in the store."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from recoapi.cli.serve import add_store_arguments


def register(commands: Any) -> None:
    parser = commands.add_parser("accounts", help="manage accounts offline")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    root = actions.add_parser("create-root", help="create the root account, or reset its password")
    root.add_argument("--email", required=True)
    root.add_argument("--password", default=None, help="default: asked on the terminal")
    add_store_arguments(root)
    root.set_defaults(run=create_root)


def create_root(args: argparse.Namespace) -> int:
    from recoapi.api.state import ensure_root_account
    from recoapi.config import settings_from_env
    from recoapi.store import open_store

    password = args.password or getpass.getpass("password for the root account: ")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    store = open_store(settings_from_env(args.data_dir, store_url=args.store_url))
    try:
        ensure_root_account(store, args.email, password)
    finally:
        store.close()
    print(f"root account {args.email.lower()} is ready", file=sys.stderr)
    return 0
