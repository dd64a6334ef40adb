"""One contract for every model: shapes, dtypes, determinism, npz round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from enginekit import random_data

from recoapi.engine.models import (
    ContentConfig,
    ContentModel,
    EaseConfig,
    EaseModel,
    HybridConfig,
    HybridModel,
    NeighborConfig,
    PopularityModel,
    load_model,
)
from recoapi.engine.training import TrainingOptions, build_signals, train


def _fit(kind: str) -> Any:
    data = random_data()
    signals = build_signals(data)
    if kind == "ease":
        return EaseModel.fit(signals, EaseConfig(l2=0.1, min_support=2))
    if kind == "content":
        return ContentModel.fit(data.n_items, data.item_properties)
    if kind == "popularity":
        return PopularityModel.fit(signals)
    return train(data, TrainingOptions(ease=EaseConfig(l2=0.1, min_support=2)))


KINDS = ["ease", "content", "popularity", "hybrid"]


@pytest.fixture(params=KINDS)
def model(request: pytest.FixtureRequest) -> Any:
    return _fit(request.param)


def _profiles(n_items: int) -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((3, n_items)) < 0.2, rng.random((3, n_items)), 0.0)
    dense[2] = 0.0  # an empty profile
    return sp.csr_matrix(dense.astype(np.float32))


def test_scores_have_one_float32_row_per_profile(model: Any) -> None:
    scores = model.score_profiles(_profiles(model.n_items))
    assert scores.shape == (3, model.n_items)
    assert scores.dtype == np.float32
    assert np.isfinite(scores).all()


def test_similar_items_cover_the_catalog(model: Any) -> None:
    sims = model.similar_items(3)
    assert sims.shape == (model.n_items,)
    assert np.isfinite(sims).all()


def test_save_and_load_give_the_same_model(model: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "model.npz")
    model.save(path)
    with np.load(path, allow_pickle=False) as npz:  # no pickled object anywhere
        assert all(npz[k].dtype != object for k in npz.files)
    again = type(model).load(path)
    profiles = _profiles(model.n_items)
    np.testing.assert_array_equal(again.score_profiles(profiles), model.score_profiles(profiles))
    np.testing.assert_array_equal(again.similar_items(5), model.similar_items(5))


def test_fitting_twice_gives_identical_scores() -> None:
    profiles = _profiles(30)
    for kind in KINDS:
        a, b = _fit(kind), _fit(kind)
        np.testing.assert_array_equal(a.score_profiles(profiles), b.score_profiles(profiles))


def test_load_model_reads_the_default_hybrid(tmp_path: Path) -> None:
    model = _fit("hybrid")
    assert isinstance(model, HybridModel)
    model.save(str(tmp_path / "m.npz"))
    assert isinstance(load_model(str(tmp_path / "m.npz")), HybridModel)


@pytest.mark.parametrize(
    "config",
    [
        EaseConfig(l2=3.0, dropout=0.1, min_support=1, max_items=10),
        ContentConfig(numeric_bins=4, property_weights={"genres": 2.0}),
        HybridConfig(content_weight=0.3, popularity_weight=0.1),
        HybridConfig(similar_neighbor_content_weight=0.2, similar_neighbor_popularity_weight=0.0),
        NeighborConfig(k=5, shrink=12.5),
    ],
)
def test_configs_round_trip_through_json(config: Any) -> None:
    again = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def test_ease_keeps_only_supported_items_in_the_dense_matrix() -> None:
    signals = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1]], dtype=np.float32))
    model = EaseModel.fit(signals, EaseConfig(l2=1.0, min_support=2))
    assert model.items.tolist() == [0, 1]
    assert model.weights.shape == (2, 2)
    assert model.weights[0, 0] == 0.0 and model.weights[0, 1] > 0
    assert model.score_profiles(signals[2])[0, 2] == 0.0


def test_ease_max_items_keeps_the_most_supported() -> None:
    signals = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=np.float32))
    model = EaseModel.fit(signals, EaseConfig(l2=1.0, min_support=1, max_items=2))
    assert model.items.tolist() == [0, 1]


def test_content_numbers_are_close_when_their_bins_are() -> None:
    from recoapi.engine.base import PropertyColumn

    years = PropertyColumn("year", "int16", False, [1950, 1951, 1990, 1991, 2020, None])
    model = ContentModel.fit(6, [years], ContentConfig(numeric_bins=5, min_df=1))
    sims = model.similar_items(0)
    assert sims[1] > sims[2] > sims[4] >= 0.0
    assert sims[5] == 0.0  # no value, no similarity
