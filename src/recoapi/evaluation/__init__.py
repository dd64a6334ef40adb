"""Offline evaluation: ``recoapi eval`` and the code behind EVALUATION.md.

The engine is trained and queried through the server's own functions
(``recoapi.engine.training.train``, ``rank_events``, ``rank_similar``); the peers in
``peers`` exist only to be measured against.
"""

from __future__ import annotations

from recoapi.evaluation.datasets import RatingsDataset, default_data_dir, load_dataset
from recoapi.evaluation.metrics import (
    Summary,
    catalog_coverage,
    evaluate_rankings,
    hit_rate_at_k,
    ndcg_at_k,
    recall_at_k,
    summarize,
)
from recoapi.evaluation.protocols import (
    ColdItemSplit,
    EvalUsers,
    Split,
    make_cold_item_split,
    make_split,
    max_folds,
    strong_generalization,
    temporal,
)
from recoapi.evaluation.runner import format_table, run

__all__ = [
    "ColdItemSplit",
    "EvalUsers",
    "RatingsDataset",
    "Split",
    "Summary",
    "catalog_coverage",
    "default_data_dir",
    "evaluate_rankings",
    "format_table",
    "hit_rate_at_k",
    "load_dataset",
    "make_cold_item_split",
    "make_split",
    "max_folds",
    "ndcg_at_k",
    "recall_at_k",
    "run",
    "strong_generalization",
    "summarize",
    "temporal",
]
