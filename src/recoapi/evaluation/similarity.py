"""Quality of item-to-items lists, for the engine and the item-based peers.

*Co-rated hit rate*: for an evaluated user, take a film they liked among the ratings the
model was given; its top-10 similar items "hit" when they contain one of the films that
user liked in the hidden part. *Genre agreement*: mean Jaccard similarity between an
item's genres and those of each of its top-10 similar items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recoapi.evaluation.metrics import Summary, summarize
from recoapi.evaluation.protocols import RELEVANT_RATING, EvalUsers
from recoapi.evaluation.rankers import Ranker

__all__ = [
    "SIMILAR_K",
    "co_rated_hit_rate",
    "genre_agreement",
    "jaccard",
    "liked_queries",
    "random_genre_agreement",
    "similar_lists",
]

SIMILAR_K = 10
QUERIES_PER_USER = 10


def liked_queries(users: EvalUsers, seed: int) -> list[np.ndarray]:
    """Per user, up to ``QUERIES_PER_USER`` given items rated >= 8 (seeded sample)."""
    rng = np.random.default_rng(seed)
    liked = users.profile_rating >= RELEVANT_RATING
    out = []
    for row in range(users.n_rows):
        items = np.unique(users.profile_item[liked & (users.profile_row == row)])
        if len(items) > QUERIES_PER_USER:
            items = np.sort(rng.choice(items, QUERIES_PER_USER, replace=False))
        out.append(items)
    return out


def similar_lists(ranker: Ranker, items: Sequence[int] | np.ndarray) -> dict[int, np.ndarray]:
    """Top-``SIMILAR_K`` similar items for each query; empty when the ranker has none."""
    out: dict[int, np.ndarray] = {}
    for item in np.unique(np.asarray(items, dtype=np.int64)).tolist():
        ranked = ranker.similar(item, SIMILAR_K)
        if ranked is None:
            return {}
        out[item] = np.asarray(ranked)
    return out


def co_rated_hit_rate(
    lists: dict[int, np.ndarray], queries: list[np.ndarray], targets: list[np.ndarray]
) -> Summary:
    """Per user, the share of their queries whose list holds one of their targets."""
    per_user = []
    for items, relevant in zip(queries, targets, strict=True):
        if len(items) and len(relevant):
            hits = [np.isin(lists[i], relevant).any() for i in items.tolist()]
            per_user.append(float(np.mean(hits)))
    return summarize(per_user)


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


def genre_agreement(lists: dict[int, np.ndarray], genres: Sequence[Sequence[str]]) -> Summary:
    """Mean over query items (with genres) of their lists' mean genre Jaccard."""
    per_item = [
        float(np.mean([jaccard(genres[item], genres[j]) for j in ranked.tolist()]))
        for item, ranked in lists.items()
        if len(genres[item]) and len(ranked)
    ]
    return summarize(per_item)


def random_genre_agreement(
    items: np.ndarray, genres: Sequence[Sequence[str]], n_items: int, seed: int
) -> Summary:
    """The same measure for ``SIMILAR_K`` uniformly random items: the chance level."""
    rng = np.random.default_rng(seed)
    lists = {int(i): rng.choice(n_items, SIMILAR_K, replace=False) for i in items}
    return genre_agreement(lists, genres)
