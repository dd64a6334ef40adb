"""``run``: one dataset, one protocol, every model on the same split, in one process.

Peers and the engine are tuned on the validation users; the test users are scored once,
with the chosen configurations. With several folds this repeats on other held-out users
and the test users of every fold are pooled (per-fold choices and scores are kept); the
similar-items and cold-item checks run on fold 0. The result is a JSON-ready dict (also
written to ``json_out``) and a printed table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from recoapi.engine.training import TrainingOptions, train
from recoapi.evaluation.datasets import RatingsDataset, load_dataset
from recoapi.evaluation.metrics import (
    TABLE_METRICS,
    Summary,
    evaluate_rankings,
    hit_rate_at_k,
    ndcg_at_k,
    recall_at_k,
    summarize,
)
from recoapi.evaluation.peers import PEER_GRIDS
from recoapi.evaluation.protocols import (
    COLD_ITEM_FRACTION,
    EvalUsers,
    Split,
    describe,
    make_cold_item_split,
    make_split,
    max_folds,
)
from recoapi.evaluation.rankers import EngineRanker, ratings_matrix
from recoapi.evaluation.similarity import (
    co_rated_hit_rate,
    genre_agreement,
    liked_queries,
    random_genre_agreement,
    similar_lists,
)
from recoapi.evaluation.tuning import TunedModel, tune_engine, tune_peer

__all__ = ["PEER_ORDER", "format_table", "run"]

PEER_ORDER = ("popularity", "item-kNN", "EASE", "ALS", "BPR")
MAX_K = 100
GENRE_SAMPLE = 500
COLD_K = 10

Log = Callable[[str], None]


def _stderr_log(start: float) -> Log:
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {message}", file=sys.stderr, flush=True)

    return log


def run(
    dataset: str,
    protocol: str = "strong",
    seed: int = 0,
    json_out: str | Path | None = None,
    *,
    folds: int = 1,
    peers: Sequence[str] = PEER_ORDER,
    data_dir: Path | None = None,
    out: TextIO | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Per fold: tune on validation users, score test users once. Then pool the test users
    of every fold, print the table, write JSON."""
    start = time.perf_counter()
    say = log or _stderr_log(start)
    if not 1 <= folds <= max_folds(protocol):
        raise ValueError(f"--folds must lie in [1, {max_folds(protocol)}] for {protocol}")
    data = load_dataset(dataset, data_dir)
    pooled: dict[str, _Pooled] = {}
    first: tuple[Split, TunedModel, list[TunedModel]] | None = None
    splits: list[Split] = []
    for fold in range(folds):
        split = make_split(data, protocol, seed, fold)
        splits.append(split)
        say(f"{data.name} fold {fold}: {split.description}; sizes {split.sizes()}")
        ours, shipped, tuned = _tune_fold(split, peers, seed, say)
        for model in (ours, shipped, *tuned):
            ranked = model.ranker.rank(split.test, MAX_K)
            pooled.setdefault(model.name, _Pooled()).add(fold, model, ranked, split.test)
            say(f"{model.name}: fold {fold} test NDCG@100 {pooled[model.name].last_ndcg():.4f}")
        if first is None:
            first = (split, ours, tuned)
    assert first is not None
    if pooled[SHIPPED].same_params_as(pooled["recoapi"]):
        del pooled[SHIPPED]
    n_items = splits[0].train.n_items
    report: dict[str, Any] = {
        "command": _command(dataset, protocol, seed, folds, json_out),
        "dataset": _dataset_facts(data),
        "split": {**describe(splits[0]), "folds": folds, "sizes": _pooled_sizes(splits)},
        "folds": [describe(s) for s in splits],
        "seed": seed,
        "metrics": [name for name, _, _ in TABLE_METRICS],
        "models": {name: p.as_dict(n_items, seed) for name, p in pooled.items()},
    }
    split, ours, tuned = first
    say("similar items (fold 0)")
    report["similar_items"] = _similar_items(data, split, [ours, *tuned], seed)
    say("cold items (fold 0)")
    report["cold_items"] = _cold_items(split, ours, seed)
    report["environment"] = _environment()
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(format_table(report), file=out or sys.stdout)
    if json_out is not None:
        Path(json_out).write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")
    return report


SHIPPED = "recoapi (shipped defaults)"


def _tune_fold(
    split: Split, peers: Sequence[str], seed: int, say: Log
) -> tuple[TunedModel, TunedModel, list[TunedModel]]:
    """(recoapi as chosen, recoapi with its shipped defaults, the tuned peers)."""
    ratings = ratings_matrix(split.train)
    tuned: list[TunedModel] = []
    for name in peers:
        say(f"tuning {name}")
        tuned.append(tune_peer(name, PEER_GRIDS[name], ratings, split.validation, seed, say))
    say("tuning recoapi (engine training pipeline)")
    ours, shipped = tune_engine(split.train, split.validation, log=say)
    shipped.name = SHIPPED
    return ours, shipped, tuned


@dataclass
class _Pooled:
    """One model's test rankings over every fold, with what was chosen in each fold."""

    ranked: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    folds: list[dict[str, Any]] = field(default_factory=list)

    def add(self, fold: int, model: TunedModel, ranked: list[np.ndarray], users: EvalUsers) -> None:
        self.ranked.extend(ranked)
        self.targets.extend(users.targets)
        self.folds.append(
            {
                "fold": fold,
                "test_users": users.n_rows,
                "test": {
                    "NDCG@100": summarize(ndcg_at_k(ranked, users.targets, 100)).as_dict(),
                    "Recall@20": summarize(recall_at_k(ranked, users.targets, 20)).as_dict(),
                },
                "validation_ndcg@100": model.validation_ndcg,
                "params": model.params,
                "trials": [
                    {
                        "params": t.params,
                        "validation_ndcg@100": t.validation_ndcg,
                        "seconds": t.seconds,
                    }
                    for t in model.trials
                ],
                "tuning_seconds": round(model.seconds, 1),
            }
        )

    def last_ndcg(self) -> float:
        return float(self.folds[-1]["test"]["NDCG@100"]["mean"])

    def same_params_as(self, other: _Pooled) -> bool:
        return [f["params"] for f in self.folds] == [f["params"] for f in other.folds]

    def as_dict(self, n_items: int, seed: int) -> dict[str, Any]:
        scores = evaluate_rankings(self.ranked, self.targets, n_items, seed)
        return {
            "test": {k: v.as_dict() for k, v in scores.items()},
            # Per test user, in the same order for every model, for paired comparisons.
            "per_user": {
                "NDCG@100": ndcg_at_k(self.ranked, self.targets, 100).round(6).tolist(),
                "Recall@20": recall_at_k(self.ranked, self.targets, 20).round(6).tolist(),
            },
            "folds": self.folds,
        }


def _pooled_sizes(splits: list[Split]) -> dict[str, int]:
    """Fold 0's training sizes; validation and test counts summed over the folds."""
    sizes = splits[0].sizes()
    for key in ("validation_users", "validation_targets", "test_users", "test_targets"):
        sizes[key] = sum(s.sizes()[key] for s in splits)
    return sizes


def _similar_items(
    data: RatingsDataset, split: Split, models: list[TunedModel], seed: int
) -> dict[str, Any]:
    genres_column = data.property("genres")
    genres = genres_column.values if genres_column is not None else [[] for _ in data.item_ids]
    queries = liked_queries(split.test, seed)
    rng = np.random.default_rng(seed)
    warm = np.unique(split.train.rating_item)
    with_genres = warm[[len(genres[i]) > 0 for i in warm]]
    sample = np.sort(rng.choice(with_genres, min(GENRE_SAMPLE, len(with_genres)), replace=False))
    out: dict[str, Any] = {
        "description": (
            "co-rated HR@10: share of a test user's liked given items whose top-10 similar "
            "items contain one of that user's hidden liked items (mean over users); genre "
            f"Jaccard@10: mean genre Jaccard between an item and its top-10 similar items, "
            f"over {len(sample)} seeded rated items"
        ),
        "random_genre_jaccard@10": random_genre_agreement(
            sample, genres, data.n_items, seed
        ).as_dict(),
        "models": {},
    }
    all_queries = np.concatenate([q for q in queries if len(q)] or [np.zeros(0, np.int64)])
    for model in models:
        lists = similar_lists(model.ranker, np.concatenate([all_queries, sample]))
        if not lists:
            continue
        out["models"][model.name] = {
            "co_rated_hr@10": co_rated_hit_rate(lists, queries, split.test.targets).as_dict(),
            "genre_jaccard@10": genre_agreement({i: lists[i] for i in sample}, genres).as_dict(),
        }
    return out


def _cold_items(split: Split, ours: TunedModel, seed: int) -> dict[str, Any]:
    cold = make_cold_item_split(split, seed)
    options = TrainingOptions.from_dict(ours.params["options"])
    model = EngineRanker(train(cold.train, options))
    n_items = split.train.n_items
    is_cold = np.zeros(n_items, dtype=bool)
    is_cold[cold.cold_items] = True
    targets = cold.users.targets
    rng = np.random.default_rng(seed)
    random_order = [rng.permutation(cold.cold_items)[:COLD_K] for _ in targets]
    unrestricted = model.rank(cold.users, MAX_K)
    return {
        "description": (
            f"a seeded {COLD_ITEM_FRACTION:.0%} of the rated items lose every training rating; "
            "the training users who rated one of them >= 8/10 get their other ratings as "
            "input, and the cold items they liked are the targets; ranked among the cold "
            "items only (a candidate mask, as a filter on new items would), and among all "
            "items (top 100)"
        ),
        "n_cold_items": int(len(cold.cold_items)),
        "n_users": cold.users.n_rows,
        "recoapi_among_cold": _cold_metrics(
            model.rank(cold.users, COLD_K, candidate_mask=is_cold), targets
        ),
        "random_among_cold": _cold_metrics(random_order, targets),
        "recoapi_all_items": {
            "Recall@100": summarize(recall_at_k(unrestricted, targets, MAX_K)).as_dict()
        },
    }


def _cold_metrics(ranked: list[np.ndarray], targets: list[np.ndarray]) -> dict[str, Any]:
    return {
        "NDCG@10": summarize(ndcg_at_k(ranked, targets, COLD_K)).as_dict(),
        "Recall@10": summarize(recall_at_k(ranked, targets, COLD_K)).as_dict(),
        "HR@10": summarize(hit_rate_at_k(ranked, targets, COLD_K)).as_dict(),
    }


def format_table(report: dict[str, Any], markdown: bool = False) -> str:
    """The test-user table: one row per model, ``mean ± s.e.`` per metric."""
    header = ["model", *report["metrics"]]
    rows = [header]
    for name, result in report["models"].items():
        cells = [Summary(**result["test"][m]) for m in report["metrics"]]
        rows.append([name, *(f"{c:.4f}" for c in cells)])
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        return "\n".join(lines)
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def _command(
    dataset: str, protocol: str, seed: int, folds: int, json_out: str | Path | None
) -> str:
    command = f"recoapi eval --dataset {dataset} --protocol {protocol} --seed {seed}"
    command += f" --folds {folds}" if folds != 1 else ""
    return command + (f" --json {json_out}" if json_out is not None else "")


def _dataset_facts(data: RatingsDataset) -> dict[str, Any]:
    return {
        "name": data.name,
        "ratings": data.n_ratings,
        "users": data.n_users,
        "items": data.n_items,
        "rated_items": int(len(np.unique(data.item))),
        "properties": [p.name for p in data.properties],
    }


def _environment() -> dict[str, Any]:
    import implicit
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "implicit": implicit.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
