"""Background training: one worker thread, debounced after writes, visible as tasks.

Training never runs on a request thread. A database is retrained when its writes have
paused for ``debounce`` seconds, or at once when ``min_new_events`` new events have piled
up, or when a client triggers ``ml_model_retrain``. Each run is a task record
(RUNNING -> COMPLETED | FAILED) that the reference client's ``wait_for_background_task``
polls. A failed run leaves the previous model serving.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recoapi.engine.base import PropertyColumn, TrainingData
from recoapi.engine.models import load_model
from recoapi.engine.training import train
from recoapi.store.base import DatabaseRecord, Store, TaskRecord

log = logging.getLogger("recoapi.trainer")

RETRAIN_TASK = "ml_model_retrain"
KEEP_MODELS = 2


@dataclass
class Pending:
    """What the scheduler knows about one database's unseen changes."""

    record: DatabaseRecord
    last_write: float = 0.0
    new_events: int = 0
    requested_task: str | None = None
    running: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Trainer:
    def __init__(
        self,
        store: Store,
        models_dir: Path,
        on_model: Callable[[DatabaseRecord, Any, str, float], None],
        *,
        debounce: float = 2.0,
        min_new_events: int = 50_000,
    ) -> None:
        self.store = store
        self.models_dir = models_dir
        self.on_model = on_model
        self.debounce = debounce
        self.min_new_events = min_new_events
        self._pending: dict[str, Pending] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    # --- scheduling ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="recoapi-trainer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def note_write(self, record: DatabaseRecord, n_events: int) -> None:
        with self._cond:
            pending = self._pending.setdefault(record.id, Pending(record))
            pending.last_write = time.time()
            pending.new_events += max(n_events, 1)
            self._cond.notify_all()

    def request(self, record: DatabaseRecord, task_name: str) -> str:
        """Queue an explicit run now; returns its task id (RUNNING from the caller's view)."""
        task = TaskRecord(uuid.uuid4().hex, record.n, task_name, time.time(), "RUNNING", "queued")
        self.store.save_task(task)
        with self._cond:
            pending = self._pending.setdefault(record.id, Pending(record))
            pending.requested_task = task.task_id
            pending.extra["task_name"] = task_name
            self._cond.notify_all()
        return task.task_id

    def is_busy(self, db_id: str) -> bool:
        with self._cond:
            pending = self._pending.get(db_id)
            return pending is not None and (pending.running or pending.requested_task is not None)

    def forget(self, db_id: str) -> None:
        with self._cond:
            self._pending.pop(db_id, None)

    def _due(self, now: float) -> Pending | None:
        for pending in self._pending.values():
            if pending.running:
                continue
            if pending.requested_task or pending.new_events >= self.min_new_events:
                return pending
            if pending.new_events and now - pending.last_write >= self.debounce:
                return pending
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (job := self._due(time.time())) is None:
                    self._cond.wait(timeout=0.2)
                if self._stop:
                    return
                job.running = True
                task_id, job.requested_task = job.requested_task, None
                task_name = job.extra.pop("task_name", RETRAIN_TASK)
                job.new_events = 0
            try:
                self._run(job.record, task_id, task_name)
            except Exception:  # noqa: BLE001 - the trainer thread must outlive any one run
                log.exception("training run for database %s could not be recorded", job.record.id)
            finally:
                with self._cond:
                    job.running = False
                    if not job.new_events and not job.requested_task:
                        self._pending.pop(job.record.id, None)

    # --- one run -------------------------------------------------------------------------------

    def _run(self, record: DatabaseRecord, task_id: str | None, task_name: str) -> None:
        start = time.time()
        task = TaskRecord(
            task_id or uuid.uuid4().hex, record.n, task_name, start, "RUNNING", "loading data"
        )
        self.store.save_task(task)

        def progress(message: str) -> None:
            self.store.save_task(
                TaskRecord(task.task_id, record.n, task_name, start, "RUNNING", message)
            )

        try:
            data = training_data(self.store, record)
            if (
                len(data.rating_user) == 0
                and len(data.interaction_user) == 0
                and not data.item_properties
            ):
                raise ValueError("nothing to train on: upload items, ratings or interactions first")
            model_id = uuid.uuid4().hex
            path = self._train_elsewhere(record, data, model_id, progress)
            model = load_model(str(path))
            self.store.save_model(record.n, model_id, type(model).__name__, str(path), time.time())
            self.on_model(record, model, model_id, time.time())
            elapsed = time.time() - start
            message = (
                f"trained on {len(data.rating_user)} ratings, {len(data.interaction_user)} "
                f"interactions, {data.n_items} items in {elapsed:.1f} s"
            )
            self.store.save_task(
                TaskRecord(
                    task.task_id, record.n, task_name, start, "COMPLETED", message, time.time()
                )
            )
            log.info("database %s: %s", record.id, message)
        except Exception as exc:  # noqa: BLE001 - reported as a FAILED task, old model kept
            if self.store.get_database(record.id) is None:
                log.info("database %s was deleted while it trained", record.id)
                return
            log.exception("training failed for database %s", record.id)
            self.store.save_task(
                TaskRecord(
                    task.task_id,
                    record.n,
                    task_name,
                    start,
                    "FAILED",
                    f"training failed: {exc}",
                    time.time(),
                )
            )

    def _train_elsewhere(
        self,
        record: DatabaseRecord,
        data: TrainingData,
        model_id: str,
        progress: Callable[[str], None],
    ) -> Path:
        """Train in a child process: numpy, scipy and implicit may hold the GIL for seconds,
        and the serving process must keep answering meanwhile."""
        folder = self.models_dir / record.id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{model_id}.npz"
        parent, child = _CONTEXT.Pipe(duplex=False)
        proc = _CONTEXT.Process(
            target=_train_child,
            args=(data, str(path), child),
            daemon=True,
            name=f"recoapi-train-{record.id[:8]}",
        )
        proc.start()
        child.close()
        try:
            while True:
                try:
                    kind, message = parent.recv()
                except EOFError:
                    raise RuntimeError(
                        f"the training process died (exit code {proc.join(5) or proc.exitcode})"
                    ) from None
                if kind == "progress":
                    progress(message)
                elif kind == "error":
                    raise RuntimeError(message)
                else:
                    break
        finally:
            parent.close()
            proc.join(timeout=30)
        for old in sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP_MODELS]:
            old.unlink(missing_ok=True)
        return path


_CONTEXT = multiprocessing.get_context("spawn")


def _train_child(data: TrainingData, path: str, conn: Any) -> None:
    """Entry point of the training process: train, save atomically, report."""
    try:
        model = train(data, progress=lambda message: conn.send(("progress", message)))
        tmp = path.replace(".npz", ".tmp.npz")
        model.save(tmp)
        os.replace(tmp, path)
        conn.send(("done", path))
    except Exception as exc:  # noqa: BLE001 - sent to the parent, which marks the task FAILED
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def training_data(store: Store, record: DatabaseRecord) -> TrainingData:
    """A frozen snapshot of one database for ``train``."""
    ratings = store.all_ratings(record.n)
    events = store.all_interactions(record.n, "user")
    n_items = len(store.vocab(record.n, "item"))
    n_users = len(store.vocab(record.n, "user"))
    return TrainingData(
        n_users=n_users,
        n_items=n_items,
        rating_user=ratings.user.astype(np.int32),
        rating_item=ratings.item.astype(np.int32),
        rating_value=ratings.rating,
        rating_time=ratings.timestamp,
        interaction_user=events.subject.astype(np.int32),
        interaction_item=events.item.astype(np.int32),
        interaction_type=events.type,
        interaction_time=events.timestamp,
        item_properties=item_columns(store, record, n_items),
    )


def item_columns(store: Store, record: DatabaseRecord, n_items: int) -> tuple[PropertyColumn, ...]:
    from recoapi.store.specs import load_specs, property_columns

    return property_columns(
        load_specs(store, record.n, "item"), store.all_entity_props(record.n, "item"), n_items
    )
