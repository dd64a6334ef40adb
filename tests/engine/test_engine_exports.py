from __future__ import annotations

import recoapi.engine
import recoapi.engine.models


def test_public_names_are_exactly_the_exported_ones() -> None:
    for module in (recoapi.engine, recoapi.engine.models):
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", "").startswith("recoapi")
        }
        assert set(module.__all__) == public, module.__name__
