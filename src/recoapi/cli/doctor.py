"""``recoapi doctor``: what a self-hoster needs to know when something looks wrong."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from recoapi.cli.serve import DEFAULT_DATA_DIR

PACKAGES = ("numpy", "scipy", "implicit", "uvicorn", "jwt", "argon2", "httpx", "tqdm")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor", help="print versions, BLAS threads, the store and server health"
    )
    parser.add_argument("--host", default="http://127.0.0.1:8000", help="server URL to check")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--store-url", default=None, help="the store to describe (env RECOAPI_STORE_URL)"
    )
    parser.set_defaults(run=run)


def redacted(url: str) -> str:
    """The URL with its password replaced by ``***``: doctor output gets pasted into issues."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _version(name: str) -> str:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "installed"))


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    pools = [f"{p.get('internal_api')} {p.get('num_threads')} threads" for p in threadpool_info()]
    return ", ".join(pools) or "none loaded"


def _server(host: str) -> str:
    import httpx

    try:
        response = httpx.get(host.rstrip("/") + "/healthz", timeout=3)
    except httpx.HTTPError as exc:
        return f"not answering ({type(exc).__name__})"
    return f"HTTP {response.status_code} {response.text.strip()[:80]}"


def run(args: argparse.Namespace) -> int:
    import numpy  # noqa: F401 - loads BLAS so its threads can be listed

    from recoapi import __version__

    lines = [
        ("recoapi", __version__),
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("cpus", str(os.cpu_count())),
    ]
    lines += [(name, _version(name)) for name in PACKAGES]
    lines.append(("blas", _blas()))
    store_url = args.store_url or os.environ.get("RECOAPI_STORE_URL")
    embedded = f"sqlite (embedded) {args.data_dir}/recoapi.sqlite3"
    lines.append(("store", redacted(store_url) if store_url else embedded))
    lines.append(("server", f"{args.host}: {_server(args.host)}"))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")
    return 0
