"""``run``: one dataset, one protocol, every model on the same split, in one process.

Peers and the engine are tuned on the validation users; the test users are scored once,
with the chosen configurations. The result is a JSON-ready dict (also written to
``json_out``) and a printed table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
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
    Split,
    describe,
    make_cold_item_split,
    make_split,
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
    peers: Sequence[str] = PEER_ORDER,
    data_dir: Path | None = None,
    out: TextIO | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Tune on validation users, score test users once, print the table, write JSON."""
    start = time.perf_counter()
    say = log or _stderr_log(start)
    data = load_dataset(dataset, data_dir)
    split = make_split(data, protocol, seed)
    say(f"{data.name}: {split.description}; sizes {split.sizes()}")
    ratings = ratings_matrix(split.train)
    tuned: list[TunedModel] = []
    for name in peers:
        say(f"tuning {name}")
        tuned.append(tune_peer(name, PEER_GRIDS[name], ratings, split.validation, seed, say))
    say("tuning recoapi (engine training pipeline)")
    ours, shipped = tune_engine(split.train, split.validation, log=say)
    engines = [ours] if ours.params == shipped.params else [ours, _renamed(shipped)]
    models = engines + tuned
    report: dict[str, Any] = {
        "command": _command(dataset, protocol, seed, json_out),
        "dataset": _dataset_facts(data),
        "split": describe(split),
        "seed": seed,
        "metrics": [name for name, _, _ in TABLE_METRICS],
        "models": {m.name: _test_scores(m, split, seed, say) for m in models},
    }
    say("similar items")
    report["similar_items"] = _similar_items(data, split, [ours, *tuned], seed)
    say("cold items")
    report["cold_items"] = _cold_items(split, ours, seed)
    report["environment"] = _environment()
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(format_table(report), file=out or sys.stdout)
    if json_out is not None:
        Path(json_out).write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")
    return report


def _renamed(model: TunedModel) -> TunedModel:
    model.name = "recoapi (shipped defaults)"
    return model


def _test_scores(model: TunedModel, split: Split, seed: int, say: Log) -> dict[str, Any]:
    began = time.perf_counter()
    ranked = model.ranker.rank(split.test, MAX_K)
    scores = evaluate_rankings(ranked, split.test.targets, split.train.n_items, seed)
    elapsed = time.perf_counter() - began
    say(f"{model.name}: test NDCG@100 {scores['NDCG@100']}")
    targets = split.test.targets
    return {
        "test": {k: v.as_dict() for k, v in scores.items()},
        # Per test user, in the same order for every model, for paired comparisons.
        "per_user": {
            "NDCG@100": ndcg_at_k(ranked, targets, 100).round(6).tolist(),
            "Recall@20": recall_at_k(ranked, targets, 20).round(6).tolist(),
        },
        "validation_ndcg@100": model.validation_ndcg,
        "params": model.params,
        "trials": [
            {"params": t.params, "validation_ndcg@100": t.validation_ndcg, "seconds": t.seconds}
            for t in model.trials
        ],
        "seconds": {"tuning": round(model.seconds, 1), "test_ranking": round(elapsed, 2)},
    }


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


def _command(dataset: str, protocol: str, seed: int, json_out: str | Path | None) -> str:
    command = f"recoapi eval --dataset {dataset} --protocol {protocol} --seed {seed}"
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
