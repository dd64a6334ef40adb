"""Readiness, background tasks and trained models (ENDPOINTS.md §8, §9.9).

The server trains by itself after data arrives; ``wait_until_ready`` waits for the first
model, showing the training task's progress messages while it waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from recoapi.client._core import ClientCore, drop_none
from recoapi.client._errors import DuplicatedError

RETRAIN_TASK = "ml_model_retrain"
MIN_SLEEP = 0.05
WAIT_FORMAT = "{desc} [{elapsed}]{postfix}"
Task = dict[str, Any]


class TasksMixin(ClientCore):
    def status(self) -> dict[str, Any]:
        """:returns: ``{'status': 'pending' | 'ready'}`` (ready once a first model is trained)."""
        return dict(self._call("GET", "databases/current/status/"))

    def trigger_background_task(
        self, task_name: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Start a task now (``ml_model_retrain`` ...). Usually not needed: training is automatic.

        :returns: ``{'task_id': str}``
        :raises DuplicatedError: ``TASK_ALREADY_RUNNING``
        """
        data = {"payload": payload} if payload else None
        return dict(self._call("POST", f"tasks/{self.escape_url(task_name)}/", data=data))

    def get_background_tasks(
        self, task_name: str, page: int | None = None, amt: int | None = None
    ) -> dict[str, Any]:
        """Recent runs of a task, newest first.

        :returns: ``{'tasks': [{'task_id', 'name', 'start_time', 'status', 'progress'}],
            'has_next', 'next_page'}``; ``status`` is ``RUNNING``, ``COMPLETED`` or ``FAILED``
        """
        params = drop_none(page=page, amt=amt)
        return dict(
            self._call("GET", f"tasks/{self.escape_url(task_name)}/recents/", params=params)
        )

    def list_trained_models(self) -> dict[str, Any]:
        """:returns: ``{'trained_models': [{'id', 'trained_timestamp', 'algorithm'}]}``"""
        return dict(self._call("GET", "pretrained-ml/trained-models/"))

    def wait_until_ready(self, timeout: float = 600, sleep: float = 1) -> None:
        """Wait until the database's status is ``ready`` (a first model is trained).

        Checks at once, then every ``sleep`` seconds; with ``progress`` on, shows the elapsed
        time and the training task's latest message.

        :raises RuntimeError: if not ready after ``timeout`` seconds
        """
        sleep = max(sleep, MIN_SLEEP)
        deadline = time.monotonic() + timeout
        with self._bar(None, "waiting for the model", "", bar_format=WAIT_FORMAT) as bar:
            while True:
                status = self.status()
                if status.get("status") == "ready":
                    bar.set_description_str("model ready", refresh=False)
                    bar.set_postfix_str(self._latest_progress(bar.disable), refresh=True)
                    return
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"the database is not ready after {timeout} s (last status: {status})"
                    )
                bar.set_postfix_str(self._latest_progress(bar.disable), refresh=False)
                bar.update(0)
                time.sleep(min(sleep, max(deadline - time.monotonic(), 0.0)))

    def wait_for_background_task(
        self,
        task_name: str,
        timeout: float = 600,
        sleep: float = 1,
        msg: str | None = None,
        filtr: Callable[[Task], bool] | None = None,
        wait_if_no_task: bool = True,
        func_list_tasks: Callable[[str], dict[str, Any]] | None = None,
    ) -> bool:
        """Wait for the newest task passing ``filtr`` to complete.

        :returns: True once it is ``COMPLETED``; without a matching task, keeps waiting if
            ``wait_if_no_task``, else returns whether one was seen
        :raises RuntimeError: if it ``FAILED`` or after ``timeout`` seconds
        """
        sleep = max(sleep, MIN_SLEEP)
        list_tasks = func_list_tasks or self.get_background_tasks
        deadline, task = time.monotonic() + timeout, None
        with self._bar(None, msg or f"waiting for {task_name}", "", bar_format=WAIT_FORMAT) as bar:
            while time.monotonic() < deadline:
                candidates = [
                    t for t in list_tasks(task_name)["tasks"] if filtr is None or filtr(t)
                ]
                if not candidates and not wait_if_no_task:
                    return task is not None
                if candidates:
                    task = max(candidates, key=lambda t: float(t["start_time"]))
                    bar.set_postfix_str(str(task.get("progress") or task["status"]))
                    if task["status"] == "COMPLETED":
                        return True
                    if task["status"] == "FAILED":
                        raise RuntimeError(f"task {task_name} failed: {task.get('progress')}")
                time.sleep(sleep)
        raise RuntimeError(f"task {task_name} not done after {timeout} s (last seen: {task})")

    def trigger_and_wait_background_task(
        self,
        task_name: str,
        timeout: float = 600,
        lock_wait_timeout: float | None = None,
        sleep: float = 1,
        verbose: bool | None = None,
    ) -> dict[str, Any]:
        """Wait for a running run of the task, start a new one and wait for it to complete.

        :param lock_wait_timeout: how long to wait for the running one (default ``timeout``;
            0 to not wait)
        :param verbose: ignored (progress follows the client's ``progress`` setting)
        :returns: ``{'task_id': str}`` of the run waited for
        """
        if lock_wait_timeout is None:
            lock_wait_timeout = timeout
        if lock_wait_timeout > 0:
            self.wait_for_background_task(
                task_name,
                lock_wait_timeout,
                sleep,
                msg="waiting for the running task",
                filtr=lambda t: t["status"] == "RUNNING",
                wait_if_no_task=False,
            )
        try:
            task_id = self.trigger_background_task(task_name)["task_id"]
        except DuplicatedError as exc:
            if exc.name != "TASK_ALREADY_RUNNING":
                raise
            tasks = self.get_background_tasks(task_name)["tasks"]
            task_id = next(t["task_id"] for t in tasks if t["status"] != "COMPLETED")
        self.wait_for_background_task(
            task_name,
            timeout,
            sleep,
            msg=f"running {task_name}",
            filtr=lambda t: t["task_id"] == task_id,
        )
        return {"task_id": task_id}

    def _latest_progress(self, quiet: bool) -> str:
        """The newest training run's message, for the progress display (never raises)."""
        if quiet:
            return ""
        try:
            tasks = self.get_background_tasks(RETRAIN_TASK, amt=1)["tasks"]
        except Exception:  # noqa: BLE001 - a display nicety must not break the wait
            return ""
        return str(tasks[0].get("progress") or tasks[0]["status"]) if tasks else ""
