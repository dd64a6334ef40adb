"""The engine as the server sees it: live state per database, training, recommendations.

The HTTP layer calls the ``on_*`` hooks after each committed write and the ``recommend_*``
methods to serve. Everything a recommendation needs is in memory; the per-database state is
built lazily from the store on first use (so a restarted server picks up where it was).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recoapi.core.filters import bind_filters, filter_mask, parse_filters, parse_reranking
from recoapi.core.properties import PropertySpec
from recoapi.engine.live import Feedback, MaskCache, ServingModel, profile_rows, rank_events
from recoapi.engine.models import load_model
from recoapi.engine.ranking import rank_profile, rank_similar, top_k
from recoapi.engine.trainer import RETRAIN_TASK, Trainer, item_columns
from recoapi.errors import DuplicatedError, ModelNotReady, WrongData
from recoapi.store.base import DatabaseRecord, InteractionsArrays, RatingsArrays, Store, TaskRecord
from recoapi.store.specs import property_columns

log = logging.getLogger("recoapi.engine")

TASK_NAMES = {RETRAIN_TASK, "item_popularity_score_recalibrate", "ml_new_users", "ml_new_items"}


@dataclass(frozen=True)
class RecoQuery:
    """Options shared by every recommendation endpoint."""

    amt: int = 10
    offset: int = 0
    filters: tuple[Any, ...] = ()
    reranking: tuple[Any, ...] = ()
    exclude_rated: bool = False


class DatabaseEngine:
    def __init__(self, record: DatabaseRecord) -> None:
        self.record = record
        self.feedback = Feedback()
        self.serving: ServingModel | None = None
        self.masks = MaskCache()
        self.serial = 0


class EngineManager:
    def __init__(
        self, store: Store, models_dir: Path, *, debounce: float = 2.0, min_new_events: int = 50_000
    ) -> None:
        self.store = store
        self.trainer = Trainer(
            store, models_dir, self._install, debounce=debounce, min_new_events=min_new_events
        )
        self._dbs: dict[str, DatabaseEngine] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self.trainer.start()

    def stop(self) -> None:
        self.trainer.stop()

    # --- per-database state ------------------------------------------------------------------

    def _get(self, record: DatabaseRecord) -> DatabaseEngine:
        engine = self._dbs.get(record.id)
        if engine is not None:
            return engine
        with self._lock:
            engine = self._dbs.get(record.id)
            if engine is None:
                engine = self._load(record)
                self._dbs[record.id] = engine
        return engine

    def _load(self, record: DatabaseRecord) -> DatabaseEngine:
        engine = DatabaseEngine(record)
        engine.feedback.load(
            self.store.all_ratings(record.n), self.store.all_interactions(record.n, "user")
        )
        models = self.store.list_models(record.n)
        for model_id, trained, _, path in models:
            if Path(path).exists():
                try:
                    model = load_model(path)
                except Exception:  # noqa: BLE001 - a damaged file: retrain instead
                    log.exception("cannot load model %s", path)
                    continue
                self._install_into(engine, model, model_id, trained)
                break
        if engine.serving is None and (engine.feedback.ratings or engine.feedback.interactions):
            self.trainer.note_write(record, 1)  # data but no usable model: train again
        return engine

    def _install(self, record: DatabaseRecord, model: Any, model_id: str, trained: float) -> None:
        engine = self._dbs.get(record.id)
        if engine is not None:
            self._install_into(engine, model, model_id, trained)

    def _install_into(
        self, engine: DatabaseEngine, model: Any, model_id: str, trained: float
    ) -> None:
        columns = item_columns(self.store, engine.record, model.n_items)
        engine.serial += 1
        engine.serving = ServingModel(model, model_id, engine.serial, trained, columns)

    def drop(self, record: DatabaseRecord) -> None:
        self.trainer.forget(record.id)
        with self._lock:
            self._dbs.pop(record.id, None)

    def status(self, record: DatabaseRecord) -> str:
        return "ready" if self._get(record).serving is not None else "pending"

    # --- write hooks -------------------------------------------------------------------------

    def _loaded(self, record: DatabaseRecord) -> DatabaseEngine | None:
        """The live state if it is in memory. Hooks run after their write committed, and a
        load in progress holds the lock, so a state loaded later already has the write."""
        with self._lock:
            return self._dbs.get(record.id)

    def on_ratings(self, record: DatabaseRecord, ratings: RatingsArrays) -> None:
        if (engine := self._loaded(record)) is not None:
            engine.feedback.add_ratings(ratings)
        self.trainer.note_write(record, len(ratings))

    def on_ratings_deleted(self, record: DatabaseRecord, user: int, item: int | None) -> None:
        if (engine := self._loaded(record)) is not None:
            engine.feedback.remove(user, item)
        self.trainer.note_write(record, 1)

    def on_user_cleared(self, record: DatabaseRecord, user: int) -> None:
        if (engine := self._loaded(record)) is not None:
            engine.feedback.remove(user, None, interactions=True)
        self.trainer.note_write(record, 1)

    def on_interactions(self, record: DatabaseRecord, events: InteractionsArrays) -> None:
        if (engine := self._loaded(record)) is not None:
            engine.feedback.add_interactions(events)
        self.trainer.note_write(record, len(events))

    def on_catalog_change(self, record: DatabaseRecord, entity: str) -> None:
        if entity != "item":
            return
        self.trainer.note_write(record, 1)
        if (engine := self._loaded(record)) is not None:
            self._extend_catalog(engine)

    def _extend_catalog(self, engine: DatabaseEngine) -> None:
        """Serve items created since the last training at once, from their properties: the
        model is copied with them (its dense part shared) and swapped in whole."""
        serving = engine.serving
        n_items = len(self.store.vocab(engine.record.n, "item"))
        if (
            serving is None
            or n_items <= serving.n_items
            or not hasattr(serving.model, "with_items")
        ):
            return
        columns = item_columns(self.store, engine.record, n_items)
        model = serving.model.with_items(n_items, columns)
        with self._lock:
            if engine.serving is serving:  # a training that finished meanwhile wins
                engine.serial += 1
                engine.serving = ServingModel(
                    model, serving.model_id, engine.serial, serving.trained, columns
                )

    def resolve_session(
        self, record: DatabaseRecord, session_key: Any, user_key: Any, ts: float
    ) -> bool:
        keys = np.empty(1, object)
        keys[0] = user_key
        user = int(self.store.ensure_indices(record.n, "user", keys)[0])
        return self.store.resolve_session(record.n, session_key, user, ts)

    # --- tasks ---------------------------------------------------------------------------------

    def trigger(self, record: DatabaseRecord, name: str) -> str:
        if name not in TASK_NAMES:
            raise WrongData(f"unknown task '{name}'; known tasks: {', '.join(sorted(TASK_NAMES))}")
        if self.trainer.is_busy(record.id):
            raise DuplicatedError(
                "task", name, f"a {name} task is already running", name="TASK_ALREADY_RUNNING"
            )
        self._get(record)
        return self.trainer.request(record, name)

    def tasks(self, record: DatabaseRecord, name: str, offset: int, limit: int) -> list[TaskRecord]:
        if name not in TASK_NAMES:
            raise WrongData(f"unknown task '{name}'; known tasks: {', '.join(sorted(TASK_NAMES))}")
        return self.store.list_tasks(
            record.n, RETRAIN_TASK if name == RETRAIN_TASK else name, offset, limit
        )

    # --- recommendations -----------------------------------------------------------------------

    def _serving(self, record: DatabaseRecord) -> tuple[DatabaseEngine, ServingModel]:
        engine = self._get(record)
        serving = engine.serving
        if serving is None:
            raise ModelNotReady()
        return engine, serving

    def _mask(
        self,
        engine: DatabaseEngine,
        serving: ServingModel,
        filters: tuple[Any, ...],
        specs: dict[str, PropertySpec],
    ) -> np.ndarray | None:
        if not filters:
            return None
        key = json.dumps(filters, sort_keys=True, default=str)
        mask = engine.masks.get(serving.serial, key)
        if mask is None:
            bound = bind_filters(parse_filters(list(filters)), specs)
            mask = filter_mask(bound, serving.columns(), serving.n_items)
            engine.masks.put(serving.serial, key, mask)
        return mask

    def _rerank(self, query: RecoQuery) -> list[Any] | None:
        return parse_reranking(list(query.reranking)) if query.reranking else None

    def similar_items(
        self, record: DatabaseRecord, item: int, query: RecoQuery, specs: dict[str, PropertySpec]
    ) -> tuple[np.ndarray, int]:
        engine, serving = self._serving(record)
        if item >= serving.n_items:
            return self._similar_to_new_item(record, engine, serving, item, query, specs)
        mask = self._mask(engine, serving, query.filters, specs)
        ranked = rank_similar(
            serving.model,
            item,
            amt=query.amt,
            offset=query.offset,
            candidate_mask=mask,
            rerank=self._rerank(query),
            item_properties=serving.columns(),
        )
        return ranked, serving.serial

    def user_items(
        self, record: DatabaseRecord, user: int, query: RecoQuery, specs: dict[str, PropertySpec]
    ) -> tuple[np.ndarray, int]:
        engine, _ = self._serving(record)
        items, ratings, types = engine.feedback.profile_events(user)
        return self.profile_items(record, items, ratings, types, query, specs)

    def user_events(
        self, record: DatabaseRecord, user: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A user's current feedback as raw events (items, ratings or NaN, interaction types)."""
        return self._get(record).feedback.profile_events(user)

    def profile_items(
        self,
        record: DatabaseRecord,
        items: np.ndarray,
        ratings: np.ndarray,
        types: np.ndarray | None,
        query: RecoQuery,
        specs: dict[str, PropertySpec],
    ) -> tuple[np.ndarray, int]:
        """Recommendations for a profile given as raw events (a user's, or a session's)."""
        engine, serving = self._serving(record)
        ranked = rank_events(
            serving.model,
            items,
            ratings,
            types,
            amt=query.amt,
            offset=query.offset,
            exclude_rated=query.exclude_rated,
            candidate_mask=self._mask(engine, serving, query.filters, specs),
            rerank=self._rerank(query),
            item_properties=serving.columns(),
        )
        return ranked, serving.serial

    def _similar_to_new_item(
        self,
        record: DatabaseRecord,
        engine: DatabaseEngine,
        serving: ServingModel,
        item: int,
        query: RecoQuery,
        specs: dict[str, PropertySpec],
    ) -> tuple[np.ndarray, int]:
        """An item added after the model was trained: rank by its properties alone (the
        model's content space), or by popularity when it has none or the model has no
        content part. It is served fully after the next training."""
        content = getattr(serving.model, "content", None)
        rows = self.store.get_entities(record.n, "item", np.array([item]))
        if content is None or not rows.get(item):
            return self._popular(engine, serving, query, specs, exclude=np.array([item]))
        columns = property_columns(specs, {0: rows[item]}, 1)
        scores = content.score_tokens(content.encode(columns, 1)).ravel()
        popularity = getattr(serving.model, "popularity", None)
        if popularity is not None:  # a tie-breaker among equally similar items
            scores = scores + 1e-3 * popularity.scores
        valid = self._mask(engine, serving, query.filters, specs)
        ranked = top_k(scores, valid, query.offset + query.amt)[query.offset :]
        return ranked, serving.serial

    def _popular(
        self,
        engine: DatabaseEngine,
        serving: ServingModel,
        query: RecoQuery,
        specs: dict[str, PropertySpec],
        exclude: np.ndarray,
    ) -> tuple[np.ndarray, int]:
        empty = np.zeros(0, np.int64)
        signal, _, low = profile_rows(serving.n_items, empty, np.zeros(0), None)
        ranked = rank_profile(
            serving.model,
            signal,
            amt=query.amt,
            offset=query.offset,
            exclude=exclude[exclude < serving.n_items],
            candidate_mask=self._mask(engine, serving, query.filters, specs),
            rerank=self._rerank(query),
            item_properties=serving.columns(),
        )
        return ranked, serving.serial

    def model_info(self, record: DatabaseRecord) -> ServingModel | None:
        return self._get(record).serving

    def check_ready(self, record: DatabaseRecord) -> None:
        self._serving(record)
