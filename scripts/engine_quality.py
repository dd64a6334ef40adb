"""Cross-validated quality of the default engine against a tuned plain EASE.

Strong generalization as in ``recoapi eval``, but over K folds of validation users so that
the comparison has ~5x more users than one split: the test users of ``recoapi eval`` (for
the seeds given with --exclude-seeds) are left out entirely, the remaining users are cut
into K folds of 10% of all users, and each fold is held out once (80% of each user's
ratings given as a session, targets = the other 20% rated >= 8/10). Plain EASE is fitted on
binarized ratings (all of them, or those >= 7/10) with every L2 of its grid and the
best mean NDCG@100 is kept (tuned on these same users, which favours the baseline). The
engine goes through ``train``, ``build_profiles`` and ``rank_profiles`` with the rated
items excluded, as the server does.

    .venv/bin/python scripts/engine_quality.py --dataset ml-latest-small
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recoapi.engine import TrainingData, TrainingOptions, build_profiles, rank_profiles, train
from recoapi.evaluation.datasets import RatingsDataset, load_dataset
from recoapi.evaluation.metrics import ndcg_at_k, recall_at_k
from recoapi.evaluation.peers import EASEPeer
from recoapi.evaluation.protocols import strong_generalization

EASE_GRID = tuple(
    (t, l2) for t in (None, 7.0) for l2 in (50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 1000.0)
)


@dataclass
class Fold:
    train: TrainingData
    sessions: sp.csr_matrix  # raw ratings 1..10, one row per validation user
    targets: list[np.ndarray]


def make_folds(ds: RatingsDataset, k: int, seed: int, exclude_seeds: list[int]) -> list[Fold]:
    excluded = {int(u) for s in exclude_seeds for u in strong_generalization(ds, s).test.users}
    rng = np.random.default_rng(seed)
    pool = rng.permutation([u for u in range(ds.n_users) if u not in excluded])
    size = int(round(0.1 * ds.n_users))
    events = [np.flatnonzero(ds.user == u) for u in range(ds.n_users)]
    folds = []
    for f in range(k):
        held = np.sort(pool[f * size : (f + 1) * size])
        folds.append(_fold(ds, events, np.setdiff1d(pool, held), held, rng))
    return folds


def _fold(
    ds: RatingsDataset,
    events: list[np.ndarray],
    train_users: np.ndarray,
    held: np.ndarray,
    rng: np.random.Generator,
) -> Fold:
    dense = np.full(ds.n_users, -1)
    dense[train_users] = np.arange(len(train_users))
    ev = np.sort(np.concatenate([events[u] for u in train_users]))
    train_data = TrainingData(
        len(train_users),
        ds.n_items,
        dense[ds.user[ev]].astype(np.int32),
        ds.item[ev],
        ds.rating[ev],
        ds.time[ev],
        item_properties=ds.properties,
    )
    rows, items, ratings, targets = [], [], [], []
    for u in held:
        shuffled = rng.permutation(events[u])
        n_hidden = max(1, int(round(0.2 * len(shuffled))))
        hidden, kept = shuffled[:n_hidden], shuffled[n_hidden:]
        liked = np.unique(ds.item[hidden][ds.rating[hidden] >= 8])
        if len(liked):
            rows += [len(targets)] * len(kept)
            items += ds.item[kept].tolist()
            ratings += ds.rating[kept].tolist()
            targets.append(liked)
    shape = (len(targets), ds.n_items)
    sessions = sp.csr_matrix((np.array(ratings, np.float32), (rows, items)), shape=shape)
    return Fold(train_data, sessions, targets)


def _metrics(ranked: list[np.ndarray], targets: list[np.ndarray]) -> np.ndarray:
    return np.stack([ndcg_at_k(ranked, targets, 100), recall_at_k(ranked, targets, 20)], 1)


def engine_scores(folds: list[Fold], options: TrainingOptions) -> tuple[np.ndarray, float]:
    out, seconds = [], []
    for fold in folds:
        start = time.perf_counter()
        model = train(fold.train, options)
        seconds.append(time.perf_counter() - start)
        s = fold.sessions
        rows = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr))
        profiles = build_profiles(
            model.n_items,
            rows,
            s.indices,
            ratings=s.data,
            n_rows=s.shape[0],
            weighting=options.weighting,
        )
        ranked = rank_profiles(model, profiles, amt=100, exclude=s)
        out.append(_metrics(ranked, fold.targets))
    return np.concatenate(out), float(np.mean(seconds))


def ease_scores(folds: list[Fold], threshold: float | None, l2: float) -> np.ndarray:
    out = []
    for fold in folds:
        t = fold.train
        ratings = sp.csr_matrix(
            (t.rating_value, (t.rating_user, t.rating_item)), shape=(t.n_users, t.n_items)
        )
        peer = EASEPeer(l2=l2, threshold=threshold)
        peer.fit(ratings)
        scores = peer.score(fold.sessions)
        scores[fold.sessions.nonzero()] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :100]
        out.append(_metrics(list(top), fold.targets))
    return np.concatenate(out)


def _summary(values: np.ndarray) -> dict[str, float]:
    sem = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    return {
        "NDCG@100": float(values[:, 0].mean()),
        "NDCG@100_sem": float(sem[0]),
        "Recall@20": float(values[:, 1].mean()),
        "Recall@20_sem": float(sem[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--exclude-seeds", type=int, nargs="*", default=[0, 42])
    args = parser.parse_args()
    ds = load_dataset(args.dataset)
    folds = make_folds(ds, args.folds, args.seed, args.exclude_seeds)
    ease = {params: ease_scores(folds, *params) for params in EASE_GRID}
    best = max(ease, key=lambda params: ease[params][:, 0].mean())
    engine, seconds = engine_scores(folds, TrainingOptions())
    gain = engine.mean(0) / ease[best].mean(0) - 1
    report = {
        "dataset": args.dataset,
        "users": int(len(engine)),
        "ease": {"threshold": best[0], "l2": best[1], **_summary(ease[best])},
        "engine": {"train_seconds": round(seconds, 1), **_summary(engine)},
        "gain": {"NDCG@100": round(float(gain[0]), 4), "Recall@20": round(float(gain[1]), 4)},
    }
    print(json.dumps(report, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
