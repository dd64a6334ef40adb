"""``recoapi.evaluation.__all__`` lists exactly the public names of the package."""

from __future__ import annotations

import recoapi.evaluation as evaluation


def test_all_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(evaluation).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("recoapi.")
    }
    assert set(evaluation.__all__) == public
    assert sorted(evaluation.__all__) == evaluation.__all__
