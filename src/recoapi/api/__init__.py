"""The HTTP layer: the ASGI app, its route table and the wire formats."""

from __future__ import annotations

from recoapi.api.factory import create_app

__all__ = ["create_app"]
