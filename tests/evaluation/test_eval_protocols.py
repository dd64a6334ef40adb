"""The splits never leak a hidden rating into training, and are fixed by the seed."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit import data_folder, synthetic_dataset

from recoapi.evaluation.datasets import RatingsDataset, load_dataset
from recoapi.evaluation.protocols import (
    RELEVANT_RATING,
    EvalUsers,
    Split,
    make_cold_item_split,
    make_split,
    max_folds,
)


def pairs(users: np.ndarray, items: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(users.tolist(), items.tolist(), strict=True))


def train_pairs(split: Split) -> set[tuple[int, int]]:
    """(dataset user, item) of every training rating."""
    return pairs(split.train_users[split.train.rating_user], split.train.rating_item)


def hidden_pairs(users: EvalUsers) -> set[tuple[int, int]]:
    return {(int(u), int(i)) for u, h in zip(users.users, users.hidden, strict=True) for i in h}


def profile_pairs(users: EvalUsers) -> set[tuple[int, int]]:
    return pairs(users.users[users.profile_row], users.profile_item)


def user_pairs(data: RatingsDataset, user: int) -> set[tuple[int, int]]:
    mask = data.user == user
    return pairs(data.user[mask], data.item[mask])


@pytest.mark.parametrize(("seed", "fold"), [(0, 0), (1, 0), (7, 0), (0, 3), (7, 4)])
def test_strong_held_out_users_never_in_training(
    synthetic: RatingsDataset, seed: int, fold: int
) -> None:
    split = make_split(synthetic, "strong", seed, fold)
    held_out = set(split.validation.users.tolist()) | set(split.test.users.tolist())
    assert not held_out & set(split.train_users.tolist())
    assert not set(split.validation.users.tolist()) & set(split.test.users.tolist())
    trained = train_pairs(split)
    for users in (split.validation, split.test):
        assert not hidden_pairs(users) & trained
        assert not profile_pairs(users) & trained
        assert (
            not {
                (int(u), int(i)) for u, t in zip(users.users, users.targets, strict=True) for i in t
            }
            & trained
        )


def test_strong_sizes_and_80_20_split(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    assert split.train.n_users == synthetic.n_users - 12  # 10% + 10% of 60 users
    for users in (split.validation, split.test):
        assert users.n_rows <= 6
        for row, user in enumerate(users.users.tolist()):
            given = profile_pairs(users.subset(np.array([row])))
            hidden = hidden_pairs(users.subset(np.array([row])))
            assert not given & hidden
            assert given | hidden == user_pairs(synthetic, user)
            assert len(hidden) == round(0.2 * len(user_pairs(synthetic, user)))


def test_targets_are_hidden_items_rated_at_least_8(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    rating = {
        (int(u), int(i)): float(r)
        for u, i, r in zip(synthetic.user, synthetic.item, synthetic.rating, strict=True)
    }
    for user, targets, hidden in zip(
        split.test.users, split.test.targets, split.test.hidden, strict=True
    ):
        assert len(targets) > 0  # users without targets are skipped
        expected = [i for i in hidden if rating[(int(user), int(i))] >= RELEVANT_RATING]
        assert targets.tolist() == sorted(expected)


def test_training_keeps_every_other_rating(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "strong", 0)
    kept = set(split.train_users.tolist())
    expected = {p for p in pairs(synthetic.user, synthetic.item) if p[0] in kept}
    assert train_pairs(split) == expected
    assert len(split.train.rating_value) == len(expected)


@pytest.mark.parametrize("protocol", ["strong", "temporal"])
def test_split_is_fixed_by_the_seed(synthetic: RatingsDataset, protocol: str) -> None:
    first, again = make_split(synthetic, protocol, 5), make_split(synthetic, protocol, 5)
    other = make_split(synthetic, protocol, 6)
    assert np.array_equal(first.test.users, again.test.users)
    assert np.array_equal(first.test.profile_item, again.test.profile_item)
    assert np.array_equal(first.train.rating_item, again.train.rating_item)
    assert hidden_pairs(first.test) == hidden_pairs(again.test)
    assert hidden_pairs(first.test) != hidden_pairs(other.test)


def test_temporal_hides_each_users_latest_ratings(synthetic: RatingsDataset) -> None:
    split = make_split(synthetic, "temporal", 0)
    assert split.train.n_users == synthetic.n_users
    trained = train_pairs(split)
    time = {
        (int(u), int(i)): float(t)
        for u, i, t in zip(synthetic.user, synthetic.item, synthetic.time, strict=True)
    }
    assert not set(split.validation.users.tolist()) & set(split.test.users.tolist())
    for users in (split.validation, split.test):
        hidden = hidden_pairs(users)
        assert not hidden & trained
        for user in users.users.tolist():
            seen = [time[p] for p in trained if p[0] == user]
            later = [time[p] for p in hidden if p[0] == user]
            assert max(seen) < min(later)
            assert len(later) == round(0.2 * len(user_pairs(synthetic, user)))
        assert profile_pairs(users) <= trained  # known users: their input is their history


@pytest.mark.parametrize("protocol", ["strong", "temporal"])
def test_cold_items_have_no_training_rating(synthetic: RatingsDataset, protocol: str) -> None:
    split = make_split(synthetic, protocol, 0)
    cold = make_cold_item_split(split, 0)
    assert len(cold.cold_items) == 2  # 5% of 40 rated items
    assert not np.isin(cold.train.rating_item, cold.cold_items).any()
    assert not np.isin(cold.users.profile_item, cold.cold_items).any()
    for targets in cold.users.targets:
        assert len(targets) and np.isin(targets, cold.cold_items).all()
    again = make_cold_item_split(split, 0)
    assert np.array_equal(cold.cold_items, again.cold_items)


def test_unknown_protocol(synthetic: RatingsDataset) -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        make_split(synthetic, "random", 0)


def test_strong_folds_hold_out_every_user_once(synthetic: RatingsDataset) -> None:
    assert max_folds("strong") == 5
    splits = [make_split(synthetic, "strong", 3, fold) for fold in range(5)]
    held = [np.concatenate([s.validation.users, s.test.users]) for s in splits]
    everyone = np.concatenate(held)
    assert len(everyone) == len(np.unique(everyone))  # no user held out twice
    for split, out in zip(splits, held, strict=True):
        assert split.train.n_users == synthetic.n_users - 12
        assert not np.isin(out, split.train_users).any()
    first = make_split(synthetic, "strong", 3)  # fold 0 is the seed's single split
    assert np.array_equal(first.test.users, splits[0].test.users)
    assert hidden_pairs(first.test) == hidden_pairs(splits[0].test)
    with pytest.raises(ValueError, match="fold"):
        make_split(synthetic, "strong", 3, 5)


def test_temporal_second_fold_swaps_validation_and_test(synthetic: RatingsDataset) -> None:
    first, second = make_split(synthetic, "temporal", 2, 0), make_split(synthetic, "temporal", 2, 1)
    assert np.array_equal(first.validation.users, second.test.users)
    assert np.array_equal(first.test.users, second.validation.users)
    assert hidden_pairs(first.test) == hidden_pairs(second.validation)
    with pytest.raises(ValueError, match="fold"):
        make_split(synthetic, "temporal", 2, 2)


def test_strong_on_ml_latest_small_never_leaks() -> None:
    data = load_dataset(str(data_folder("ml-latest-small")))
    split = make_split(data, "strong", 0)
    assert split.sizes()["train_users"] == 610 - 2 * 61
    trained = train_pairs(split)
    for users in (split.validation, split.test):
        assert not hidden_pairs(users) & trained
        assert not set(users.users.tolist()) & set(split.train_users.tolist())
    held_out = np.isin(data.user, np.concatenate([split.validation.users, split.test.users]))
    assert len(split.train.rating_value) <= int((~held_out).sum())


def test_synthetic_fixture_is_deterministic() -> None:
    a, b = synthetic_dataset(), synthetic_dataset()
    assert np.array_equal(a.item, b.item) and np.array_equal(a.rating, b.rating)
