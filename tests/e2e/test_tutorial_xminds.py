"""The MovieLens walkthrough (TUTORIAL_FLOW.md) through the reference client, both serializers."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from movielens import ML_SMALL, MovieLens, as_dicts, load
from server import ROOT_EMAIL, ROOT_PASSWORD

SESSION = [(1196, 10.0), (1210, 10.0), (780, 8.0), (1373, 7.0), (1924, 1.0)]
CRIME = {"Crime", "Thriller", "Mystery", "Film-Noir"}
SCIFI = {"Sci-Fi", "Action", "Adventure"}


@pytest.fixture(scope="module")
def movielens() -> MovieLens:
    if not ML_SMALL.exists():
        pytest.skip(f"MovieLens data not found at {ML_SMALL}")
    return load(ML_SMALL)


def _wire(arr: np.ndarray, serializer: str) -> Any:
    return arr if serializer == "pkl" else as_dicts(arr)


def _share(ids: Any, genres: dict[int, list[str]], wanted: set[str]) -> float:
    ids = [int(i) for i in ids]
    return sum(bool(wanted & set(genres[i])) for i in ids) / len(ids)


def test_walkthrough(server: Any, serializer: str, movielens: MovieLens) -> None:
    from xminds.api.client import CrossingMindsApiClient

    client = CrossingMindsApiClient(serializer=serializer, host=server.url)
    login = client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)  # step 1
    assert login["token"] and "database" not in login
    db = client.create_database(
        f"movielens-{uuid.uuid4().hex[:8]}", "MovieLens", "uint32", "uint32"
    )
    selected = client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db["id"])  # step 3
    assert selected["database"]["session_id_type"]
    client.create_item_property("year", "int16")  # steps 4-6
    client.create_item_property("genres", "unicode18", repeated=True)
    client.create_item_property("tags", "unicode20", repeated=True)
    m2m = [
        {"name": "genres", "array": _wire(movielens.genres, serializer)},
        {"name": "tags", "array": _wire(movielens.tags, serializer)},
    ]
    client.create_or_update_items_bulk(_wire(movielens.items, serializer), m2m)  # step 7
    # one chunk: the reference client sleeps 32.8 s between chunks of 16384
    client.create_or_update_ratings_bulk(
        _wire(movielens.ratings, serializer), chunk_size=len(movielens.ratings)
    )  # step 8
    assert client.get_database()["counters"]["rating"] == len(movielens.ratings)
    client.wait_until_ready(timeout=300, sleep=1)  # step 9

    similar = client.get_reco_item_to_items(50, amt=8)["items_id"]  # step 10
    assert len(similar) == 8 and 50 not in [int(i) for i in similar]
    assert _share(similar, movielens.movie_genres, CRIME) >= 0.75

    user = 10
    before = [int(i) for i in client.get_reco_user_to_items(user, amt=8)["items_id"]]  # step 11
    assert len(before) == 8

    ratings = np.array(SESSION, dtype=[("item_id", "<u4"), ("rating", "<f4")])
    session = client.get_reco_session_to_items(_wire(ratings, serializer), amt=8)[
        "items_id"
    ]  # step 12
    assert 1924 not in [int(i) for i in session]
    assert _share(session, movielens.movie_genres, SCIFI) >= 0.75

    client.create_or_update_rating(user, before[0], 1.0)  # step 13
    after = [int(i) for i in client.get_reco_user_to_items(user, amt=8)["items_id"]]
    assert before[0] not in after and len(after) == 8
