"""Background tasks and trained models (ENDPOINTS.md §9.9, §8)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from recoapi.api.request import Request
from recoapi.api.routing import Route
from recoapi.api.util import page_answer

MAX_TASKS = 64


def trigger_background_task(req: Request) -> dict[str, Any]:
    """Start a training run now (DuplicatedError TASK_ALREADY_RUNNING if one is running)."""
    return {"task_id": req.state.engine.trigger(req.db, unquote(req.params["name"]))}


def get_background_tasks(req: Request) -> dict[str, Any]:
    """Recent runs of a task, newest first, with status and a progress message."""
    amt, page = req.q_int("amt", 50, high=MAX_TASKS), req.q_int("page", 1)
    found = req.state.engine.tasks(req.db, unquote(req.params["name"]), (page - 1) * amt, amt + 1)
    return page_answer([t.to_public() for t in found], page, amt, "tasks")


def list_trained_models(req: Request) -> dict[str, Any]:
    models = req.state.store.list_models(req.db.n)
    return {
        "trained_models": [
            {"id": model_id, "trained_timestamp": trained, "algorithm": algorithm}
            for model_id, trained, algorithm, _ in models
        ]
    }


def routes() -> list[Route]:
    return [
        Route("POST", "/v1/tasks/{name}/", trigger_background_task, tag="tasks"),
        Route("GET", "/v1/tasks/{name}/recents/", get_background_tasks, tag="tasks"),
        Route("GET", "/v1/pretrained-ml/trained-models/", list_trained_models, tag="tasks"),
    ]
