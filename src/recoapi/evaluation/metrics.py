"""Top-k ranking metrics, per user, with their mean and standard error.

Relevance is binary: an item is relevant when it is one of the user's targets. Following
Liang et al. (2018), NDCG@k divides by the ideal DCG over ``min(k, n_targets)`` hits, and
Recall@k divides the hits by ``min(k, n_targets)`` (so that a perfect top-k scores 1 even
when a user has more than ``k`` targets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "TABLE_METRICS",
    "Summary",
    "catalog_coverage",
    "coverage_summary",
    "evaluate_rankings",
    "hit_rate_at_k",
    "ndcg_at_k",
    "recall_at_k",
    "summarize",
]

# The reported columns, in table order: (name, kind, k).
TABLE_METRICS = (
    ("NDCG@100", "ndcg", 100),
    ("Recall@20", "recall", 20),
    ("Recall@50", "recall", 50),
    ("NDCG@10", "ndcg", 10),
    ("HR@10", "hit_rate", 10),
    ("Coverage@10", "coverage", 10),
)
COVERAGE_BOOTSTRAP = 200


@dataclass(frozen=True)
class Summary:
    """The mean of a per-user metric and its standard error (``std / sqrt(n)``)."""

    mean: float
    sem: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "sem": self.sem, "n": self.n}

    def __format__(self, spec: str) -> str:
        spec = spec or ".4f"
        return f"{self.mean:{spec}} ± {self.sem:{spec}}"


def summarize(values: Sequence[float] | np.ndarray) -> Summary:
    array = np.asarray(values, dtype=np.float64)
    if len(array) == 0:
        return Summary(float("nan"), float("nan"), 0)
    sem = float(array.std(ddof=1) / np.sqrt(len(array))) if len(array) > 1 else 0.0
    return Summary(float(array.mean()), sem, len(array))


def _hits(ranked: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    return np.isin(np.asarray(ranked)[:k], targets)


def ndcg_at_k(ranked: Sequence[np.ndarray], targets: Sequence[np.ndarray], k: int) -> np.ndarray:
    """Per-user NDCG@k with binary relevance."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    out = np.zeros(len(targets))
    for u, (ranking, relevant) in enumerate(zip(ranked, targets, strict=True)):
        if len(relevant) == 0:
            continue
        hits = _hits(ranking, relevant, k)
        ideal = discounts[: min(k, len(relevant))].sum()
        out[u] = discounts[: len(hits)][hits].sum() / ideal
    return out


def recall_at_k(ranked: Sequence[np.ndarray], targets: Sequence[np.ndarray], k: int) -> np.ndarray:
    """Per-user hits in the top k over ``min(k, n_targets)``."""
    out = np.zeros(len(targets))
    for u, (ranking, relevant) in enumerate(zip(ranked, targets, strict=True)):
        if len(relevant):
            out[u] = _hits(ranking, relevant, k).sum() / min(k, len(relevant))
    return out


def hit_rate_at_k(
    ranked: Sequence[np.ndarray], targets: Sequence[np.ndarray], k: int
) -> np.ndarray:
    """Per-user 1 when at least one target is in the top k, else 0."""
    return np.array([float(_hits(r, t, k).any()) for r, t in zip(ranked, targets, strict=True)])


def catalog_coverage(ranked: Sequence[np.ndarray], n_items: int, k: int) -> float:
    """Share of the catalog that appears in at least one user's top k."""
    if n_items == 0 or len(ranked) == 0:
        return 0.0
    shown = np.unique(np.concatenate([np.asarray(r)[:k] for r in ranked]))
    return len(shown) / n_items


def coverage_summary(ranked: Sequence[np.ndarray], n_items: int, k: int, seed: int = 0) -> Summary:
    """Catalog coverage with a bootstrap (over users, seeded) standard error."""
    rng = np.random.default_rng(seed)
    value = catalog_coverage(ranked, n_items, k)
    samples = [
        catalog_coverage([ranked[i] for i in rng.integers(0, len(ranked), len(ranked))], n_items, k)
        for _ in range(COVERAGE_BOOTSTRAP if len(ranked) > 1 else 0)
    ]
    sem = float(np.std(samples, ddof=1)) if len(samples) > 1 else 0.0
    return Summary(value, sem, len(ranked))


def evaluate_rankings(
    ranked: Sequence[np.ndarray], targets: Sequence[np.ndarray], n_items: int, seed: int = 0
) -> dict[str, Summary]:
    """Every column of ``TABLE_METRICS`` for one model's rankings of the same users."""
    per_user = {"ndcg": ndcg_at_k, "recall": recall_at_k, "hit_rate": hit_rate_at_k}
    out: dict[str, Summary] = {}
    for name, kind, k in TABLE_METRICS:
        if kind == "coverage":
            out[name] = coverage_summary(ranked, n_items, k, seed)
        else:
            out[name] = summarize(per_user[kind](ranked, targets, k))
    return out
