"""The walkthrough's expectations on ml-latest-small, in process (slow: trains on it all)."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from movielens import MovieLens, load
from recoapi.engine.base import PropertyColumn, Recommender, TrainingData
from recoapi.engine.profiles import build_low_rated, build_profiles
from recoapi.engine.ranking import rank_profile, rank_similar
from recoapi.engine.training import train

DATA = Path(
    os.environ.get("RECOAPI_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data")
)
ML_SMALL = DATA / "ml-latest-small"
SESSION = {1196: 10.0, 1210: 10.0, 780: 8.0, 1373: 7.0, 1924: 1.0}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ML_SMALL.is_dir(), reason=f"{ML_SMALL} is missing"),
]


def _training_data(ml: MovieLens) -> TrainingData:
    ids = ml.items["item_id"].astype(np.int64)
    index = {int(i): k for k, i in enumerate(ids)}
    genres: list[list[str]] = [[] for _ in ids]
    for item, value in ml.genres.tolist():
        genres[item].append(value)
    tags: list[list[str]] = [[] for _ in ids]
    for item, value in ml.tags.tolist():
        tags[item].append(value)
    users, user_index = np.unique(ml.ratings["user_id"], return_inverse=True)
    return TrainingData(
        n_users=len(users),
        n_items=len(ids),
        rating_user=user_index.astype(np.int32),
        rating_item=np.array([index[int(i)] for i in ml.ratings["item_id"]], np.int32),
        rating_value=ml.ratings["rating"].astype(np.float32),
        rating_time=ml.ratings["timestamp"].astype(np.float64),
        item_properties=(
            PropertyColumn("year", "int16", False, [int(y) or None for y in ml.items["year"]]),
            PropertyColumn("genres", "unicode18", True, genres),
            PropertyColumn("tags", "unicode20", True, tags),
        ),
    )


@pytest.fixture(scope="module")
def trained() -> tuple[MovieLens, np.ndarray, Recommender, float]:
    ml = load(ML_SMALL)
    data = _training_data(ml)
    start = time.perf_counter()
    model = train(data)
    return ml, ml.items["item_id"].astype(np.int64), model, time.perf_counter() - start


def _genres(ml: MovieLens, ids: np.ndarray, ranked: np.ndarray) -> list[list[str]]:
    return [ml.movie_genres[int(ids[i])] for i in ranked]


def test_training_is_fast_enough(trained: tuple[MovieLens, np.ndarray, Recommender, float]) -> None:
    assert trained[3] < 60.0


def test_movies_like_the_usual_suspects_are_crime_thrillers(
    trained: tuple[MovieLens, np.ndarray, Recommender, float],
) -> None:
    ml, ids, model, _ = trained
    item = int(np.flatnonzero(ids == 50)[0])
    ranked = rank_similar(model, item, amt=10)
    matches = [bool({"Crime", "Thriller", "Mystery"} & set(g)) for g in _genres(ml, ids, ranked)]
    assert sum(matches) >= 8, _genres(ml, ids, ranked)


def test_the_walkthrough_session_gets_science_fiction_and_never_1924(
    trained: tuple[MovieLens, np.ndarray, Recommender, float],
) -> None:
    ml, ids, model, _ = trained
    items = [int(np.flatnonzero(ids == movie)[0]) for movie in SESSION]
    ratings = list(SESSION.values())
    rows = [0] * len(items)
    profile = build_profiles(model.n_items, rows, items, ratings=ratings, n_rows=1)
    low = build_low_rated(model.n_items, rows, items, ratings, n_rows=1)
    banned = items[-1]
    for exclude in (profile, None):
        ranked = rank_profile(model, profile, amt=10, exclude=exclude, always_exclude=low)
        assert banned not in ranked.tolist()
        genres = _genres(ml, ids, ranked)
        hits = [bool({"Sci-Fi", "Action", "Adventure"} & set(g)) for g in genres]
        assert sum(hits) >= 8, genres
    counts = Counter(g for gs in _genres(ml, ids, ranked) for g in gs)
    assert counts.most_common(1)[0][0] in {"Sci-Fi", "Action", "Adventure"}
