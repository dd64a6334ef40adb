"""One interface over the engine and the peers: rank the items of evaluated users.

``EngineRanker`` goes through exactly the function the server calls for a user or a
session, ``rank_events`` (raw ratings to signal weights, the rated items excluded, items
rated <= 4/10 never shown), with no filter; item-to-items goes through ``rank_similar``.
``PeerRanker`` ranks a peer's dense scores with the same exclusion and the same tie rule
(score descending, then item index ascending).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import Recommender, TrainingData
from recoapi.engine.live import rank_events
from recoapi.engine.ranking import rank_similar
from recoapi.evaluation.peers import Peer
from recoapi.evaluation.protocols import EvalUsers

__all__ = ["BATCH_ROWS", "EngineRanker", "PeerRanker", "Ranker", "ratings_matrix", "top_items"]

BATCH_ROWS = 256


class Ranker(Protocol):
    name: str

    def rank(self, users: EvalUsers, amt: int) -> list[np.ndarray]: ...

    def similar(self, item: int, amt: int) -> np.ndarray | None: ...


def ratings_matrix(train: TrainingData) -> sp.csr_matrix:
    """Raw ratings (1..10) as a users x items matrix; the last rating of a pair wins."""
    order = np.argsort(train.rating_time, kind="stable")
    users, items = train.rating_user[order], train.rating_item[order]
    keys = users.astype(np.int64) * train.n_items + items
    _, last_reversed = np.unique(keys[::-1], return_index=True)
    last = order[len(keys) - 1 - last_reversed]
    data = (train.rating_value[last], (train.rating_user[last], train.rating_item[last]))
    return sp.csr_matrix(data, shape=(train.n_users, train.n_items), dtype=np.float32)


def top_items(scores: np.ndarray, banned: np.ndarray, amt: int) -> np.ndarray:
    """The ``amt`` best items of one score row outside ``banned``, best first."""
    valid = np.ones(len(scores), dtype=bool)
    valid[banned] = False
    candidates = np.flatnonzero(valid)
    values = scores[candidates]
    if amt < len(candidates):
        keep = np.argpartition(-values, amt - 1)[:amt]
        threshold = values[keep].min()
        keep = np.flatnonzero(values >= threshold)
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))[:amt]
    return candidates[order]


def _batches(n_rows: int) -> list[np.ndarray]:
    return [np.arange(s, min(s + BATCH_ROWS, n_rows)) for s in range(0, n_rows, BATCH_ROWS)]


class PeerRanker:
    """A fitted peer, ranking from its dense scores."""

    def __init__(self, peer: Peer, n_items: int) -> None:
        self.peer, self.n_items, self.name = peer, n_items, peer.name

    def rank(self, users: EvalUsers, amt: int) -> list[np.ndarray]:
        rated = users.rated_items()
        out: list[np.ndarray] = []
        for rows in _batches(users.n_rows):
            scores = self.peer.score(users.subset(rows).profile_matrix(self.n_items))
            out.extend(top_items(scores[i], rated[r], amt) for i, r in enumerate(rows))
        return out

    def similar(self, item: int, amt: int) -> np.ndarray | None:
        similar_items = getattr(self.peer, "similar_items", None)
        if similar_items is None:
            return None
        return top_items(similar_items(item), np.array([item]), amt)


class EngineRanker:
    """A trained engine model, queried like the server queries it: one profile at a time
    through ``rank_events``, the function behind the user-to-items and session routes."""

    def __init__(self, model: Recommender, name: str = "recoapi") -> None:
        self.model, self.name = model, name

    def rank(
        self, users: EvalUsers, amt: int, candidate_mask: np.ndarray | None = None
    ) -> list[np.ndarray]:
        order = np.argsort(users.profile_row, kind="stable")
        bounds = np.searchsorted(users.profile_row[order], np.arange(users.n_rows + 1))
        items, ratings = users.profile_item[order], users.profile_rating[order]
        return [
            rank_events(
                self.model,
                items[bounds[r] : bounds[r + 1]].astype(np.int64),
                ratings[bounds[r] : bounds[r + 1]].astype(np.float64),
                amt=amt,
                candidate_mask=candidate_mask,
            )
            for r in range(users.n_rows)
        ]

    def similar(self, item: int, amt: int) -> np.ndarray | None:
        return rank_similar(self.model, item, amt=amt)
