from __future__ import annotations

import pytest
from evalkit import synthetic_dataset

from recoapi.evaluation.datasets import RatingsDataset


@pytest.fixture
def synthetic() -> RatingsDataset:
    """60 users, 40 items, seeded."""
    return synthetic_dataset()
