"""Hyperparameter search on validation users only (NDCG@100, as Liang et al. 2018).

Every configuration of a small grid is fitted on the training users and scored on the
validation users; the best one is kept as fitted and is the only one ever shown the test
users. Factor models evaluate several iteration counts within one fit (checkpoints).

The engine's own search starts from its shipped defaults and moves away from them only
on evidence: a candidate replaces the current best when its mean NDCG@100 gain over the
same validation users exceeds one standard error of the paired difference (the "one
standard error rule" of model selection). With ~60-90 validation users, gains below that
are noise, and chasing them picked settings that did worse on the test users.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import TrainingData
from recoapi.engine.training import TrainingOptions, train
from recoapi.evaluation.metrics import ndcg_at_k
from recoapi.evaluation.peers import CHECKPOINTED, Peer, make_peer
from recoapi.evaluation.protocols import EvalUsers
from recoapi.evaluation.rankers import EngineRanker, PeerRanker, Ranker

__all__ = [
    "ENGINE_STEPS",
    "TUNING_K",
    "Trial",
    "TunedModel",
    "clearly_better",
    "expand_grid",
    "option_value",
    "options_with",
    "tune_engine",
    "tune_peer",
    "validation_ndcg",
    "validation_scores",
]

TUNING_K = 100
# Coordinate search around the engine's shipped defaults: each step multiplies one option
# of the best configuration so far by these factors (1.0 is the value it already has).
ENGINE_STEPS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("ease.l2", (0.5, 1.0, 2.0)),
    ("hybrid.content_weight", (0.0, 1.0, 2.0)),
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class Trial:
    params: dict[str, Any]
    validation_ndcg: float
    seconds: float


@dataclass
class TunedModel:
    """The best configuration, fitted, and the record of the search."""

    name: str
    params: dict[str, Any]
    ranker: Ranker
    validation_ndcg: float
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a fixed order."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def validation_scores(ranker: Ranker, users: EvalUsers) -> np.ndarray:
    """Per-user NDCG@100 on ``users`` (the tuning criterion)."""
    return ndcg_at_k(ranker.rank(users, TUNING_K), users.targets, TUNING_K)


def validation_ndcg(ranker: Ranker, users: EvalUsers) -> float:
    return float(validation_scores(ranker, users).mean())


def clearly_better(candidate: np.ndarray, incumbent: np.ndarray) -> bool:
    """True when ``candidate``'s mean gain over the same users exceeds one paired s.e."""
    diff = np.asarray(candidate, dtype=np.float64) - np.asarray(incumbent, dtype=np.float64)
    if len(diff) < 2:
        return bool(diff.sum() > 0)
    return bool(diff.mean() > diff.std(ddof=1) / np.sqrt(len(diff)))


def tune_peer(
    name: str,
    grid: dict[str, list[Any]],
    ratings: sp.csr_matrix,
    validation: EvalUsers,
    seed: int,
    log: Log | None = None,
) -> TunedModel:
    """Fit every configuration of ``grid`` and keep the best on ``validation``."""
    say = log or (lambda _m: None)
    start = time.perf_counter()
    n_items = ratings.shape[1]
    checkpoints = sorted(grid.get("iterations", [])) if name in CHECKPOINTED else []
    base_grid = {k: v for k, v in grid.items() if not (checkpoints and k == "iterations")}
    best: TunedModel | None = None
    trials: list[Trial] = []
    for params in expand_grid(base_grid):
        extra = {"seed": seed} if name in CHECKPOINTED else {}
        if checkpoints:
            extra["iterations"] = checkpoints[-1]
        peer = make_peer(name, **params, **extra)
        for trial, snapshot in _fit_and_score(peer, params, checkpoints, ratings, validation):
            trials.append(trial)
            say(f"  {name} {trial.params}: NDCG@100 {trial.validation_ndcg:.4f}")
            if best is None or trial.validation_ndcg > best.validation_ndcg:
                ranker = PeerRanker(snapshot, n_items)
                best = TunedModel(name, trial.params, ranker, trial.validation_ndcg)
    assert best is not None, "empty grid"
    best.trials, best.seconds = trials, time.perf_counter() - start
    return best


def _fit_and_score(
    peer: Peer,
    params: dict[str, Any],
    checkpoints: list[int],
    ratings: sp.csr_matrix,
    validation: EvalUsers,
) -> list[tuple[Trial, Peer]]:
    """One fit; a trial per checkpoint (or one), each with a copy of the peer at that point."""
    n_items = ratings.shape[1]
    results: list[tuple[Trial, Peer]] = []
    clock = [time.perf_counter()]

    def record(iterations: int | None) -> None:
        score = validation_ndcg(PeerRanker(peer, n_items), validation)
        full = dict(params) if iterations is None else {**params, "iterations": iterations}
        trial = Trial(full, score, time.perf_counter() - clock[0])
        results.append((trial, copy.deepcopy(peer)))

    if checkpoints:
        peer.fit(ratings, callback=lambda n: record(n) if n in checkpoints else None)  # type: ignore[call-arg]
    else:
        peer.fit(ratings)
        record(None)
    return results


def options_with(options: TrainingOptions, path: str, value: Any) -> TrainingOptions:
    """A copy of ``options`` with one nested field (``"ease.l2"``) replaced."""
    head, _, rest = path.partition(".")
    if not rest:
        return replace(options, **{head: value})
    inner = getattr(options, head)
    return replace(options, **{head: replace(inner, **{rest: value})})


def option_value(options: TrainingOptions, path: str) -> Any:
    value: Any = options
    for part in path.split("."):
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class _EngineTrial:
    options: TrainingOptions
    ranker: EngineRanker
    per_user: np.ndarray
    seconds: float

    @property
    def score(self) -> float:
        return float(self.per_user.mean())


def tune_engine(
    data: TrainingData,
    validation: EvalUsers,
    base: TrainingOptions | None = None,
    log: Log | None = None,
) -> tuple[TunedModel, TunedModel]:
    """(chosen on validation, shipped defaults): coordinate search over ``ENGINE_STEPS``.

    Every candidate is trained with ``recoapi.engine.training.train``, the server's own
    training pipeline; a candidate is chosen over the current one only when it is
    ``clearly_better`` on the validation users.
    """
    say = log or (lambda _m: None)
    start = time.perf_counter()
    defaults = base or TrainingOptions()
    seen: dict[str, _EngineTrial] = {}

    def evaluate(options: TrainingOptions) -> _EngineTrial:
        key = json.dumps(options.to_dict(), sort_keys=True)
        if key not in seen:
            began = time.perf_counter()
            ranker = EngineRanker(train(data, options))
            per_user = validation_scores(ranker, validation)
            seen[key] = _EngineTrial(options, ranker, per_user, time.perf_counter() - began)
            say(f"  recoapi {_changes(defaults, options)}: NDCG@100 {per_user.mean():.4f}")
        return seen[key]

    best = evaluate(defaults)
    for path, factors in ENGINE_STEPS:
        anchor = best.options
        current = option_value(anchor, path)
        for factor in factors:
            trial = evaluate(options_with(anchor, path, type(current)(current * factor)))
            if clearly_better(trial.per_user, best.per_user):
                best = trial
    trials = [Trial(_changes(defaults, t.options), t.score, t.seconds) for t in seen.values()]
    elapsed = time.perf_counter() - start
    return (
        _engine_result(best, defaults, trials, elapsed),
        _engine_result(
            seen[json.dumps(defaults.to_dict(), sort_keys=True)], defaults, trials, elapsed
        ),
    )


def _engine_result(
    trial: _EngineTrial, defaults: TrainingOptions, trials: list[Trial], seconds: float
) -> TunedModel:
    params = {
        "changed_from_defaults": _changes(defaults, trial.options),
        "options": trial.options.to_dict(),
    }
    return TunedModel("recoapi", params, trial.ranker, trial.score, trials, seconds)


def _changes(defaults: TrainingOptions, options: TrainingOptions) -> dict[str, Any]:
    return {
        path: option_value(options, path)
        for path, _ in ENGINE_STEPS
        if option_value(options, path) != option_value(defaults, path)
    }
