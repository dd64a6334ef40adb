"""Serving-time ranking shared by the server and ``recoapi eval``.

Scores come from the model; this module removes what must not be shown (rated items,
low-rated items, filtered items), takes the top ``offset + amt`` by partial sort, optionally
reranks for diversity, and returns item indices best first. The order is total (score
descending, then index ascending), so page 2 (``offset=amt``) continues page 1 exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import Recommender
from recoapi.engine.diversity import RERANK_POOL, diversify

__all__ = ["rank_profile", "rank_profiles", "rank_similar", "top_k"]


def top_k(scores: np.ndarray, valid: np.ndarray | None, k: int) -> np.ndarray:
    """Indices of the ``k`` best valid scores, best first; fewer when fewer are valid.

    Ties go to the lower index whatever ``k`` is, which keeps pagination consistent.
    """
    cand = np.flatnonzero(valid) if valid is not None else np.arange(scores.size)
    vals = np.nan_to_num(scores[cand], nan=-np.inf)
    k = min(k, cand.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < cand.size:
        kth = np.partition(vals, cand.size - k)[cand.size - k]
        keep = vals >= kth
        cand, vals = cand[keep], vals[keep]
    order = np.lexsort((cand, -vals))[:k]
    return cand[order]


def _row_mask(mat: sp.csr_matrix | None, row: int, valid: np.ndarray) -> None:
    if mat is None:
        return
    start, end = mat.indptr[row], mat.indptr[row + 1]
    cols = mat.indices[start:end]
    if mat.dtype != bool:
        cols = cols[mat.data[start:end] != 0]
    valid[cols] = False


def _rank_row(
    scores: np.ndarray,
    valid: np.ndarray,
    amt: int,
    offset: int,
    rerank: Sequence[Any] | None,
    item_properties: Any,
) -> np.ndarray:
    if not rerank:
        return top_k(scores, valid, offset + amt)[offset:]
    pool = top_k(scores, valid, max(RERANK_POOL, offset + amt))
    picked = diversify(pool, scores[pool], rerank, item_properties, offset + amt)
    return picked[offset:]


def _check_page(amt: int, offset: int) -> None:
    if amt < 0 or offset < 0:
        raise ValueError("amt and offset must be >= 0")


def rank_profiles(
    model: Recommender,
    profiles: sp.csr_matrix,
    *,
    amt: int,
    offset: int = 0,
    exclude: sp.csr_matrix | None = None,
    always_exclude: sp.csr_matrix | None = None,
    candidate_mask: np.ndarray | None = None,
    rerank: Sequence[Any] | None = None,
    item_properties: Any = None,
) -> list[np.ndarray]:
    """Item indices, best first, for each profile row (signal weights).

    ``exclude`` (e.g. the rated items when ``exclude_rated_items``) and ``always_exclude``
    (items rated <= 4/10) are per-row sparse masks; ``candidate_mask`` is a boolean array
    over items (the filters). Rows with fewer valid items return fewer than ``amt``.
    """
    _check_page(amt, offset)
    profiles = sp.csr_matrix(profiles)
    scores = model.score_profiles(profiles)
    base = _base_mask(model.n_items, candidate_mask)
    out = []
    for row in range(profiles.shape[0]):
        valid = base.copy()
        _row_mask(exclude, row, valid)
        _row_mask(always_exclude, row, valid)
        out.append(_rank_row(scores[row], valid, amt, offset, rerank, item_properties))
    return out


def rank_profile(
    model: Recommender,
    profile: sp.csr_matrix,
    *,
    amt: int,
    offset: int = 0,
    exclude: sp.csr_matrix | np.ndarray | None = None,
    always_exclude: sp.csr_matrix | np.ndarray | None = None,
    candidate_mask: np.ndarray | None = None,
    rerank: Sequence[Any] | None = None,
    item_properties: Any = None,
) -> np.ndarray:
    """One profile (a 1-row CSR). ``exclude``/``always_exclude`` may also be index arrays."""
    return rank_profiles(
        model,
        profile,
        amt=amt,
        offset=offset,
        exclude=_as_row(exclude, model.n_items),
        always_exclude=_as_row(always_exclude, model.n_items),
        candidate_mask=candidate_mask,
        rerank=rerank,
        item_properties=item_properties,
    )[0]


def rank_similar(
    model: Recommender,
    item: int,
    *,
    amt: int,
    offset: int = 0,
    candidate_mask: np.ndarray | None = None,
    rerank: Sequence[Any] | None = None,
    item_properties: Any = None,
) -> np.ndarray:
    """Items similar to ``item``, best first, never ``item`` itself."""
    _check_page(amt, offset)
    if not 0 <= item < model.n_items:
        raise IndexError(f"item index {item} is outside the model's {model.n_items} items")
    valid = _base_mask(model.n_items, candidate_mask)
    valid[item] = False
    scores = model.similar_items(item)
    return _rank_row(scores, valid, amt, offset, rerank, item_properties)


def _base_mask(n_items: int, candidate_mask: np.ndarray | None) -> np.ndarray:
    if candidate_mask is None:
        return np.ones(n_items, dtype=bool)
    mask = np.asarray(candidate_mask, dtype=bool)
    if mask.shape != (n_items,):
        raise ValueError(f"candidate_mask must be a boolean array of {n_items} items")
    return mask.copy()


def _as_row(mask: sp.csr_matrix | np.ndarray | None, n_items: int) -> sp.csr_matrix | None:
    if mask is None or sp.issparse(mask):
        return cast("sp.csr_matrix | None", mask)
    arr = np.asarray(mask)
    idx = np.flatnonzero(arr) if arr.dtype == bool else arr.astype(np.int64).ravel()
    data = np.ones(idx.size, dtype=bool)
    return sp.csr_matrix((data, (np.zeros(idx.size, dtype=np.int64), idx)), shape=(1, n_items))
