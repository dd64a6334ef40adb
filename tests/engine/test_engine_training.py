"""Training on data with known answers, fold-in, cold items, options."""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
from enginekit import BLOCK, N_BLOCKS, checkerboard, random_data, with_cold_items

from recoapi.engine.base import TrainingData
from recoapi.engine.profiles import ProfileWeighting, build_low_rated, build_profiles
from recoapi.engine.ranking import rank_profile, rank_similar
from recoapi.engine.training import TrainingOptions, train

N = N_BLOCKS * BLOCK


def session(n_items: int, ratings: dict[int, float]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    items, values = list(ratings), list(ratings.values())
    rows = [0] * len(items)
    profile = build_profiles(n_items, rows, items, ratings=values, n_rows=1)
    return profile, build_low_rated(n_items, rows, items, values, n_rows=1)


def user_ratings(data: TrainingData, user: int) -> dict[int, float]:
    mine = data.rating_user == user
    return dict(zip(data.rating_item[mine].tolist(), data.rating_value[mine].tolist(), strict=True))


def test_checkerboard_user_gets_the_missing_item_of_their_block() -> None:
    data = checkerboard()
    model = train(data)
    for user in range(N):
        profile, _ = session(model.n_items, user_ratings(data, user))
        assert rank_profile(model, profile, amt=1, exclude=profile).tolist() == [user]


def test_similar_items_of_a_rated_item_are_its_block() -> None:
    model = train(checkerboard())
    for item in (0, BLOCK + 2, N - 1):
        block = set(range(item // BLOCK * BLOCK, (item // BLOCK + 1) * BLOCK)) - {item}
        assert set(rank_similar(model, item, amt=BLOCK - 1).tolist()) == block


def test_an_item_without_ratings_gets_similar_items_through_its_properties() -> None:
    data = with_cold_items(checkerboard(), [["g2"], ["g3", "g1"]])
    model = train(data)
    similar = rank_similar(model, N, amt=BLOCK).tolist()
    assert set(similar) == set(range(2 * BLOCK, 3 * BLOCK))
    assert set(rank_similar(model, N + 1, amt=3).tolist()) <= set(range(BLOCK, 2 * BLOCK)) | set(
        range(3 * BLOCK, 4 * BLOCK)
    )


def test_an_item_without_ratings_can_be_recommended() -> None:
    data = with_cold_items(checkerboard(), [["g1"]])
    model = train(data)
    profile, _ = session(model.n_items, {BLOCK: 10.0})
    assert N in rank_profile(model, profile, amt=BLOCK, exclude=profile).tolist()
    only_cold, _ = session(model.n_items, {N: 10.0})
    top = rank_profile(model, only_cold, amt=BLOCK - 1, exclude=only_cold).tolist()
    assert set(top) <= set(range(BLOCK, 2 * BLOCK))


def test_a_new_rating_changes_the_next_answer_without_retraining() -> None:
    data = checkerboard()
    model = train(data)
    ratings = user_ratings(data, 0)
    before, _ = session(model.n_items, ratings)
    ranked_before = rank_profile(model, before, amt=N, exclude=before).tolist()
    target = 3 * BLOCK
    after, low = session(model.n_items, {**ratings, target: 10.0})
    ranked_after = rank_profile(model, after, amt=N, exclude=after).tolist()
    for item in range(target + 1, target + BLOCK):
        assert ranked_after.index(item) < ranked_before.index(item)

    disliked, low = session(model.n_items, {**ratings, 0: 1.0})
    ranked = rank_profile(model, disliked, amt=N, always_exclude=low).tolist()
    assert 0 not in ranked and 1 in ranked


def test_an_empty_profile_gets_the_most_popular_items() -> None:
    data = random_data()
    model = train(data)
    counts = np.bincount(data.rating_item, minlength=data.n_items)
    empty = sp.csr_matrix((1, data.n_items), dtype=np.float32)
    top = rank_profile(model, empty, amt=3)
    assert counts[top].min() >= np.sort(counts)[-6]


def test_training_uses_interactions_and_reports_progress() -> None:
    data = random_data()
    messages: list[str] = []
    model = train(data, TrainingOptions(seed=7), progress=messages.append)
    assert messages and "trained" in messages[-1]
    clicks_only = TrainingData(
        n_users=2,
        n_items=3,
        rating_user=np.zeros(0, np.int32),
        rating_item=np.zeros(0, np.int32),
        rating_value=np.zeros(0, np.float32),
        rating_time=np.zeros(0),
        interaction_user=np.array([0, 1], np.int32),
        interaction_item=np.array([1, 1], np.int32),
        interaction_type=np.array(["buy", "buy"], dtype=object),
        interaction_time=np.zeros(2),
    )
    empty = sp.csr_matrix((1, 3), dtype=np.float32)
    assert rank_profile(train(clicks_only), empty, amt=1).tolist() == [1]
    assert model.n_items == data.n_items


def test_training_options_round_trip_through_json() -> None:
    options = TrainingOptions(seed=3, weighting=ProfileWeighting(interaction_cap=2.0))
    again = TrainingOptions.from_dict(json.loads(json.dumps(options.to_dict())))
    assert again == options
    assert TrainingOptions.from_dict(TrainingOptions().to_dict()) == TrainingOptions()


def test_items_created_after_training_are_served_through_their_properties() -> None:
    data = checkerboard()
    model = train(data)
    grown = with_cold_items(data, [["g3"]])
    bigger = model.with_items(grown.n_items, grown.item_properties)
    assert bigger.n_items == N + 1 and model.n_items == N
    assert set(rank_similar(bigger, N, amt=BLOCK).tolist()) == set(range(3 * BLOCK, 4 * BLOCK))
    profile, _ = session(bigger.n_items, {3 * BLOCK: 10.0})
    assert N in rank_profile(bigger, profile, amt=BLOCK, exclude=profile).tolist()
    assert bigger.with_items(N, grown.item_properties) is bigger


def test_a_profile_of_items_nothing_is_known_about_gets_popular_items() -> None:
    data = random_data()
    bare = TrainingData(
        n_users=data.n_users,
        n_items=data.n_items + 1,
        rating_user=data.rating_user,
        rating_item=data.rating_item,
        rating_value=data.rating_value,
        rating_time=data.rating_time,
    )
    model = train(bare)
    profile, _ = session(model.n_items, {data.n_items: 10.0})
    empty = sp.csr_matrix((1, model.n_items), dtype=np.float32)
    ranked = rank_profile(model, profile, amt=5, exclude=profile)
    assert ranked.tolist() == rank_profile(model, empty, amt=5).tolist()
