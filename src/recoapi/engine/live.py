"""The live state of one database in the serving process.

Holds the current model and every user's current feedback in memory, so a recommendation
never reads the store and a new rating changes the next answer at once: user profiles are
folded in from this feedback at request time, not taken from the model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import PropertyColumn, Recommender
from recoapi.engine.profiles import build_profiles, rating_weights
from recoapi.engine.ranking import rank_profile
from recoapi.store.base import InteractionsArrays, RatingsArrays

LOW_RATING = 4.0  # out of 10: an item rated this low never comes back in that user's list
MASK_CACHE_SIZE = 64


@dataclass(frozen=True)
class ServingModel:
    """A trained model with what it was trained on, swapped in as a whole."""

    model: Recommender
    model_id: str
    serial: int
    trained: float
    item_properties: tuple[PropertyColumn, ...]

    @property
    def n_items(self) -> int:
        return self.model.n_items

    def columns(self) -> dict[str, PropertyColumn]:
        return {c.name: c for c in self.item_properties}


class Feedback:
    """Per-user ratings and interactions, updated by every write."""

    def __init__(self) -> None:
        self.ratings: dict[int, dict[int, float]] = {}
        self.interactions: dict[int, list[tuple[int, str]]] = {}
        self.lock = threading.Lock()

    def load(self, ratings: RatingsArrays, interactions: InteractionsArrays) -> None:
        order = np.argsort(ratings.timestamp, kind="stable")
        with self.lock:
            for user, item, value in zip(
                ratings.user[order].tolist(),
                ratings.item[order].tolist(),
                ratings.rating[order].tolist(),
                strict=True,
            ):
                self.ratings.setdefault(user, {})[item] = value
            self._add_interactions(interactions)

    def add_ratings(self, ratings: RatingsArrays) -> None:
        with self.lock:
            for user, item, value in zip(
                ratings.user.tolist(), ratings.item.tolist(), ratings.rating.tolist(), strict=True
            ):
                self.ratings.setdefault(user, {})[item] = value

    def add_interactions(self, events: InteractionsArrays) -> None:
        with self.lock:
            self._add_interactions(events)

    def _add_interactions(self, events: InteractionsArrays) -> None:
        for user, item, kind in zip(
            events.subject.tolist(), events.item.tolist(), events.type.tolist(), strict=True
        ):
            self.interactions.setdefault(int(user), []).append((item, kind))

    def remove(self, user: int, item: int | None, *, interactions: bool = False) -> None:
        with self.lock:
            if item is None:
                self.ratings.pop(user, None)
            else:
                self.ratings.get(user, {}).pop(item, None)
            if interactions:
                self.interactions.pop(user, None)

    def profile_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(items, ratings with NaN for interactions, interaction types) of one user."""
        with self.lock:
            rated = list(self.ratings.get(user, {}).items())
            events = list(self.interactions.get(user, []))
        items = np.array([i for i, _ in rated] + [i for i, _ in events], np.int64)
        values = np.array([r for _, r in rated] + [np.nan] * len(events), np.float64)
        types = np.array([None] * len(rated) + [k for _, k in events], object)
        return items, values, types


def profile_rows(
    n_items: int, items: np.ndarray, ratings: np.ndarray, types: np.ndarray | None
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """One profile for the model from raw events: (signal row, rated items, low-rated items),
    each a 1-row CSR. Items the model does not know (added after its training) are left out.

    Ratings alone (the common case) take a fast path that builds each row directly; with
    interactions the general ``build_profiles`` decides how both kinds of signal combine.
    """
    known = (items >= 0) & (items < n_items)
    items, ratings = items[known], ratings[known]
    types = None if types is None else types[known]
    rated = np.isfinite(ratings)
    if types is not None and not rated.all():
        rows = np.zeros(len(items), np.int64)
        signal = build_profiles(
            n_items, rows, items, ratings=ratings, interaction_types=types, n_rows=1
        )
    else:
        items, ratings = _last_per_item(items, ratings)
        weights = rating_weights(ratings)
        keep = weights != 0
        signal = _row(items[keep], weights[keep], n_items)
    rated_items, rated_values = _last_per_item(
        items[np.isfinite(ratings)], ratings[np.isfinite(ratings)]
    )
    low = rated_items[rated_values <= LOW_RATING]
    everything = np.unique(items)
    return (
        signal,
        _row(everything, np.ones(len(everything), bool), n_items),
        _row(low, np.ones(len(low), bool), n_items),
    )


def rank_events(
    model: Recommender,
    items: np.ndarray,
    ratings: np.ndarray,
    types: np.ndarray | None = None,
    *,
    amt: int,
    offset: int = 0,
    exclude_rated: bool = True,
    candidate_mask: np.ndarray | None = None,
    rerank: Sequence[Any] | None = None,
    item_properties: Any = None,
) -> np.ndarray:
    """Recommendations for one profile given as raw events: what the user-to-items and
    session routes answer, and what ``recoapi eval`` measures. Items rated <= 4/10 never
    come back, even with ``exclude_rated`` false."""
    signal, rated, low = profile_rows(model.n_items, items, ratings, types)
    return rank_profile(
        model,
        signal,
        amt=amt,
        offset=offset,
        exclude=rated if exclude_rated else None,
        always_exclude=low,
        candidate_mask=candidate_mask,
        rerank=rerank,
        item_properties=item_properties,
    )


def _last_per_item(items: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique items with the value of their last occurrence."""
    order = np.argsort(items, kind="stable")
    items, values = items[order], values[order]
    last = np.ones(len(items), bool)
    last[:-1] = items[1:] != items[:-1]
    return items[last], values[last]


def _row(indices: np.ndarray, data: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A 1-row CSR from sorted unique column indices, without a COO round trip."""
    return sp.csr_matrix(
        (data, indices.astype(np.int32), np.array([0, len(indices)], np.int32)), shape=(1, n_items)
    )


class MaskCache:
    """Filter masks per model, keyed by the filters' canonical text (LRU)."""

    def __init__(self) -> None:
        self._masks: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, serial: int, key: str) -> np.ndarray | None:
        with self._lock:
            mask = self._masks.get((serial, key))
            if mask is not None:
                self._masks.move_to_end((serial, key))
            return mask

    def put(self, serial: int, key: str, mask: np.ndarray) -> None:
        with self._lock:
            self._masks[(serial, key)] = mask
            while len(self._masks) > MASK_CACHE_SIZE:
                self._masks.popitem(last=False)
