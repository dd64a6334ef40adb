"""Train / validation / test splits that never leak a hidden rating into training.

*Strong generalization* (Liang et al. 2018, "Variational Autoencoders for Collaborative
Filtering"): held-out users are never seen in training; each gives 80% of their ratings as
an anonymous session and the model must find the other 20%. *Temporal*: every user is
known, the last 20% of each user's ratings (by timestamp) are hidden. *Cold items*: a
seeded set of items loses every rating, so only their properties can bring them back.

*Folds* repeat a protocol on other users so that more of them are scored once each: strong
generalization's fold ``f`` takes the validation and test users from the next two tenths
of the same seeded user order (5 folds, every user held out exactly once, half of them as
test users); temporal has two folds, the second swapping the validation and test halves.
Fold 0 is the single split of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import TrainingData
from recoapi.evaluation.datasets import RatingsDataset

__all__ = [
    "PROTOCOLS",
    "ColdItemSplit",
    "EvalUsers",
    "Split",
    "describe",
    "make_cold_item_split",
    "max_folds",
    "make_split",
    "strong_generalization",
    "temporal",
]

PROTOCOLS = ("strong", "temporal")
RELEVANT_RATING = 8.0  # 4 of 5 stars
HELD_OUT_FRACTION = 0.1  # of all users, for validation and again for test
HIDDEN_FRACTION = 0.2  # of each evaluated user's ratings
COLD_ITEM_FRACTION = 0.05  # of the items rated in training


@dataclass(frozen=True)
class EvalUsers:
    """Users scored in one round: the ratings the model is given, and what it must find.

    Row ``r`` stands for dataset user ``users[r]``. Its input ratings are the entries of
    ``profile_*`` with ``profile_row == r``; ``targets[r]`` holds the hidden items that user
    rated at least ``RELEVANT_RATING``; ``hidden[r]`` every hidden item.
    """

    users: np.ndarray
    profile_row: np.ndarray
    profile_item: np.ndarray
    profile_rating: np.ndarray
    targets: list[np.ndarray]
    hidden: list[np.ndarray] = field(repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.users)

    def profile_matrix(self, n_items: int) -> sp.csr_matrix:
        """Raw ratings (1..10), one row per evaluated user."""
        shape = (self.n_rows, n_items)
        data = (self.profile_rating, (self.profile_row, self.profile_item))
        return sp.csr_matrix(data, shape=shape, dtype=np.float32)

    def rated_items(self) -> list[np.ndarray]:
        """The profile's items per row: what a session excludes from its answer."""
        order = np.argsort(self.profile_row, kind="stable")
        bounds = np.searchsorted(self.profile_row[order], np.arange(self.n_rows + 1))
        items = self.profile_item[order]
        return [items[bounds[r] : bounds[r + 1]] for r in range(self.n_rows)]

    def subset(self, rows: np.ndarray) -> EvalUsers:
        rows = np.asarray(rows, dtype=np.int64)
        new_row = np.full(self.n_rows, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        keep = new_row[self.profile_row] >= 0
        return EvalUsers(
            users=self.users[rows],
            profile_row=new_row[self.profile_row[keep]].astype(np.int32),
            profile_item=self.profile_item[keep],
            profile_rating=self.profile_rating[keep],
            targets=[self.targets[r] for r in rows],
            hidden=[self.hidden[r] for r in rows],
        )


@dataclass(frozen=True)
class Split:
    """One protocol applied to one dataset."""

    protocol: str
    seed: int
    train: TrainingData
    train_users: np.ndarray  # dataset user index of each training user index
    validation: EvalUsers
    test: EvalUsers
    description: str

    def sizes(self) -> dict[str, int]:
        return {
            "train_users": int(self.train.n_users),
            "train_ratings": int(len(self.train.rating_value)),
            "items": int(self.train.n_items),
            "validation_users": self.validation.n_rows,
            "validation_targets": int(sum(len(t) for t in self.validation.targets)),
            "test_users": self.test.n_rows,
            "test_targets": int(sum(len(t) for t in self.test.targets)),
        }


@dataclass(frozen=True)
class ColdItemSplit:
    """Training data without any rating of ``cold_items``; users who liked some of them."""

    seed: int
    cold_items: np.ndarray
    train: TrainingData
    users: EvalUsers


def max_folds(protocol: str) -> int:
    """How many disjoint folds a protocol has (each user is a test user at most once)."""
    if protocol == "strong":
        return int(round(1 / (2 * HELD_OUT_FRACTION)))
    if protocol == "temporal":
        return 2
    raise ValueError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")


def make_split(dataset: RatingsDataset, protocol: str, seed: int, fold: int = 0) -> Split:
    if not 0 <= fold < max_folds(protocol):
        raise ValueError(f"fold must lie in [0, {max_folds(protocol)}) for {protocol}")
    if protocol == "strong":
        return strong_generalization(dataset, seed, fold)
    return temporal(dataset, seed, fold)


def strong_generalization(dataset: RatingsDataset, seed: int, fold: int = 0) -> Split:
    """10% validation and 10% test users, disjoint, never in training; 80/20 per user.

    Fold ``f`` holds out the ``2f``-th and ``2f+1``-th tenths of one seeded user order,
    so the folds of a seed never share a held-out user.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(dataset.n_users)
    if fold:  # fold 0 keeps drawing from the same generator: it is the seed's split
        rng = np.random.default_rng([seed, fold])
    n_out = max(1, int(round(HELD_OUT_FRACTION * dataset.n_users)))
    val_part = order[2 * fold * n_out : (2 * fold + 1) * n_out]
    test_part = order[(2 * fold + 1) * n_out : (2 * fold + 2) * n_out]
    if not len(test_part):
        raise ValueError(f"{dataset.n_users} users are too few for fold {fold}")
    val_users, test_users = np.sort(val_part), np.sort(test_part)
    train_users = np.setdiff1d(order, np.concatenate([val_part, test_part]))
    by_user = _events_by_user(dataset)
    validation = _random_holdout(dataset, by_user, val_users, rng)
    test = _random_holdout(dataset, by_user, test_users, rng)
    train_events = np.concatenate([by_user[u] for u in train_users])
    description = (
        f"strong generalization: {len(val_users)} validation and {len(test_users)} test users "
        f"(seeded, disjoint, {HELD_OUT_FRACTION:.0%} of users each) are left out of training; "
        f"each gives a random {1 - HIDDEN_FRACTION:.0%} of their ratings as an anonymous "
        f"session and the targets are the other {HIDDEN_FRACTION:.0%} rated >= "
        f"{RELEVANT_RATING:g}/10; users without targets are skipped"
    )
    train = _training_data(dataset, train_events, train_users)
    if fold:
        description += f" (fold {fold} of the seed's user order)"
    return Split("strong", seed, train, train_users, validation, test, description)


def temporal(dataset: RatingsDataset, seed: int, fold: int = 0) -> Split:
    """Every user's last 20% of ratings hidden; users split in half for validation/test
    (fold 1 swaps the halves)."""
    rng = np.random.default_rng(seed)
    by_user = _events_by_user(dataset)
    kept, hidden = [], []
    for events in by_user:
        tie_break = rng.random(len(events))
        ordered = events[np.lexsort((tie_break, dataset.time[events]))]
        n_hidden = _n_hidden(len(ordered))
        kept.append(ordered[: len(ordered) - n_hidden])
        hidden.append(ordered[len(ordered) - n_hidden :])
    all_users = np.arange(dataset.n_users)
    everyone = _build_eval_users(dataset, all_users, kept, hidden)
    order = rng.permutation(everyone.n_rows)
    half = everyone.n_rows // 2
    train = _training_data(dataset, np.concatenate(kept), all_users)
    description = (
        f"temporal: every user is known; the last {HIDDEN_FRACTION:.0%} of each user's ratings "
        f"by timestamp are hidden, targets are the hidden ratings >= {RELEVANT_RATING:g}/10; "
        "the users with targets are split at random (seeded) into validation and test halves"
    )
    halves = np.sort(order[:half]), np.sort(order[half:])
    if fold:
        halves = halves[::-1]
        description += " (fold 1: the halves swapped)"
    validation, test = everyone.subset(halves[0]), everyone.subset(halves[1])
    return Split("temporal", seed, train, all_users, validation, test, description)


def make_cold_item_split(split: Split, seed: int) -> ColdItemSplit:
    """Drop every training rating of a seeded 5% of the rated items.

    The evaluated users are training users who rated a cold item at least 8/10; their
    input is their remaining (warm) training ratings, their targets those cold items.
    """
    train = split.train
    rng = np.random.default_rng(seed)
    rated = np.unique(train.rating_item)
    n_cold = max(1, int(round(COLD_ITEM_FRACTION * len(rated))))
    cold = np.sort(rng.choice(rated, size=n_cold, replace=False))
    is_cold = np.isin(train.rating_item, cold)
    warm = np.flatnonzero(~is_cold)
    liked = is_cold & (train.rating_value >= RELEVANT_RATING)
    users = np.unique(train.rating_user[liked])
    row_of_user = np.full(train.n_users, -1, dtype=np.int64)
    row_of_user[users] = np.arange(len(users))
    in_profile = warm[row_of_user[train.rating_user[warm]] >= 0]
    eval_users = EvalUsers(
        users=split.train_users[users],
        profile_row=row_of_user[train.rating_user[in_profile]].astype(np.int32),
        profile_item=train.rating_item[in_profile],
        profile_rating=train.rating_value[in_profile],
        targets=_items_per_row(
            row_of_user[train.rating_user], train.rating_item, liked, len(users)
        ),
        hidden=_items_per_row(
            row_of_user[train.rating_user], train.rating_item, is_cold, len(users)
        ),
    )
    return ColdItemSplit(seed, cold, _subset_training(train, warm), eval_users)


def _items_per_row(
    row: np.ndarray, item: np.ndarray, mask: np.ndarray, n_rows: int
) -> list[np.ndarray]:
    row, item = row[mask], item[mask]
    order = np.lexsort((item, row))
    row, item = row[order], item[order]
    bounds = np.searchsorted(row, np.arange(n_rows + 1))
    return [item[bounds[r] : bounds[r + 1]] for r in range(n_rows)]


def _n_hidden(n_ratings: int) -> int:
    return max(1, int(round(HIDDEN_FRACTION * n_ratings))) if n_ratings > 1 else 0


def _events_by_user(dataset: RatingsDataset) -> list[np.ndarray]:
    order = np.argsort(dataset.user, kind="stable")
    bounds = np.searchsorted(dataset.user[order], np.arange(dataset.n_users + 1))
    return [order[bounds[u] : bounds[u + 1]] for u in range(dataset.n_users)]


def _random_holdout(
    dataset: RatingsDataset, by_user: list[np.ndarray], users: np.ndarray, rng: np.random.Generator
) -> EvalUsers:
    kept, hidden = [], []
    for u in users:
        events = rng.permutation(by_user[u])
        n_hidden = _n_hidden(len(events))
        kept.append(np.sort(events[n_hidden:]))
        hidden.append(np.sort(events[:n_hidden]))
    return _build_eval_users(dataset, users, kept, hidden)


def _build_eval_users(
    dataset: RatingsDataset, users: np.ndarray, kept: list[np.ndarray], hidden: list[np.ndarray]
) -> EvalUsers:
    """Rows for the users that have at least one target; the others are skipped."""
    targets = [np.unique(dataset.item[h[dataset.rating[h] >= RELEVANT_RATING]]) for h in hidden]
    rows = [i for i, t in enumerate(targets) if len(t)]
    profile = [kept[i] for i in rows]
    row_of_event = np.repeat(np.arange(len(rows), dtype=np.int32), [len(p) for p in profile])
    events = np.concatenate(profile) if profile else np.zeros(0, dtype=np.int64)
    return EvalUsers(
        users=np.asarray(users)[rows],
        profile_row=row_of_event,
        profile_item=dataset.item[events],
        profile_rating=dataset.rating[events],
        targets=[targets[i] for i in rows],
        hidden=[np.unique(dataset.item[hidden[i]]) for i in rows],
    )


def _training_data(
    dataset: RatingsDataset, events: np.ndarray, train_users: np.ndarray
) -> TrainingData:
    events = np.sort(events)
    dense = np.full(dataset.n_users, -1, dtype=np.int64)
    dense[train_users] = np.arange(len(train_users))
    return TrainingData(
        n_users=len(train_users),
        n_items=dataset.n_items,
        rating_user=dense[dataset.user[events]].astype(np.int32),
        rating_item=dataset.item[events].astype(np.int32),
        rating_value=dataset.rating[events].astype(np.float32),
        rating_time=dataset.time[events].astype(np.float64),
        item_properties=dataset.properties,
    )


def _subset_training(train: TrainingData, keep: np.ndarray) -> TrainingData:
    return TrainingData(
        n_users=train.n_users,
        n_items=train.n_items,
        rating_user=train.rating_user[keep],
        rating_item=train.rating_item[keep],
        rating_value=train.rating_value[keep],
        rating_time=train.rating_time[keep],
        item_properties=train.item_properties,
    )


def describe(split: Split) -> dict[str, Any]:
    """The split as JSON-ready facts."""
    return {
        "protocol": split.protocol,
        "seed": split.seed,
        "description": split.description,
        "sizes": split.sizes(),
    }
