"""Greedy diversity reranking on an item property (the API's ``reranking`` option).

Scores in the candidate pool are rescaled to [0, 1]. Items are then picked one at a time;
a candidate loses ``weight * default_malus * mean(activation of its values)``, where a value
is *activated* once it occurs at least ``max_activation_count`` times among the last
``activation_period`` picks (all picks when 0), its activation growing with the count.
A candidate without a value for the property is never penalised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recoapi.engine.base import PropertyColumn
from recoapi.errors import WrongData

__all__ = ["RERANK_POOL", "diversify"]

RERANK_POOL = 300
"""Candidates considered by the reranker; fixed so that pages stay consistent."""

DEFAULT_MALUS = 0.5


def _column(item_properties: Any, name: str) -> Sequence[Any]:
    if item_properties is None:
        raise WrongData(f"reranking on {name!r} needs the item properties")
    if isinstance(item_properties, Mapping):
        if name not in item_properties:
            raise WrongData(f"reranking on unknown item property {name!r}")
        col = item_properties[name]
        return col.values if isinstance(col, PropertyColumn) else col
    for col in item_properties:
        if col.name == name:
            return list(col.values)
    raise WrongData(f"reranking on unknown item property {name!r}")


def _incidence(pool: np.ndarray, values: Sequence[Any]) -> np.ndarray:
    """(pool x distinct values) 0/1 matrix, rows divided by their number of values."""
    codes: dict[Any, int] = {}
    pairs: list[tuple[int, int]] = []
    for row, item in enumerate(pool.tolist()):
        raw = values[item] if item < len(values) else None
        vals = raw if isinstance(raw, (list, tuple, np.ndarray)) else [raw]
        for v in {x for x in vals if x is not None}:
            pairs.append((row, codes.setdefault(v, len(codes))))
    mat = np.zeros((pool.size, max(len(codes), 1)), dtype=np.float64)
    for row, code in pairs:
        mat[row, code] = 1.0
    n_vals = mat.sum(axis=1, keepdims=True)
    return np.asarray(mat / np.maximum(n_vals, 1.0))


class _Penalty:
    def __init__(self, rerank: Any, pool: np.ndarray, item_properties: Any) -> None:
        op = getattr(rerank, "op", "diversity")
        if op != "diversity":
            raise WrongData(f"reranking operation {op!r} is not supported (use 'diversity')")
        options = dict(getattr(rerank, "options", None) or {})
        weight = getattr(rerank, "weight", None)
        self.scale = (1.0 if weight is None else float(weight)) * float(
            options.get("default_malus", DEFAULT_MALUS)
        )
        self.period = int(options.get("activation_period", 0) or 0)
        self.threshold = max(int(options.get("max_activation_count", 1) or 1), 1)
        self.incidence = _incidence(pool, _column(item_properties, rerank.property_name))
        self.picked: list[int] = []

    def malus(self) -> np.ndarray:
        recent = self.picked[-self.period :] if self.period else self.picked
        counts = (self.incidence[recent] > 0).sum(axis=0).astype(np.float64)
        activation = np.where(counts >= self.threshold, counts / self.threshold, 0.0)
        return np.asarray(self.scale * (self.incidence @ activation))


def _normalise(scores: np.ndarray) -> np.ndarray:
    s = np.nan_to_num(scores.astype(np.float64), nan=-np.inf, neginf=np.nan)
    lo, hi = np.nanmin(s), np.nanmax(s)
    out = (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)
    return np.nan_to_num(out, nan=-1.0)


def diversify(
    pool: np.ndarray,
    scores: np.ndarray,
    rerank: Sequence[Any],
    item_properties: Any,
    n: int,
) -> np.ndarray:
    """The first ``n`` items of the greedy reranking of ``pool`` (already best first)."""
    if not pool.size:
        return pool
    base = _normalise(scores)
    penalties = [_Penalty(r, pool, item_properties) for r in rerank]
    free = np.ones(pool.size, dtype=bool)
    picks: list[int] = []
    for _ in range(min(n, pool.size)):
        adjusted = base - sum((p.malus() for p in penalties), np.zeros(pool.size))
        adjusted[~free] = -np.inf
        best = int(np.argmax(adjusted))
        free[best] = False
        picks.append(best)
        for p in penalties:
            p.picked.append(best)
    return pool[np.array(picks, dtype=np.int64)]
