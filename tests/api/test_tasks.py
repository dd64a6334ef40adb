"""Background training as tasks: trigger, poll, duplicate runs, failures, model listing."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from xminds.api.exceptions import DuplicatedError, WrongData

from server import ROOT_EMAIL, ROOT_PASSWORD


def fresh(server: Any) -> Any:
    from xminds.api.client import CrossingMindsApiClient

    client = CrossingMindsApiClient(serializer="json", host=server.url)
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db = client.create_database(f"tasks-{uuid.uuid4().hex[:8]}", "tasks", "uint32", "uint32")
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db["id"])
    return client


def small_data(client: Any) -> None:
    rows = [
        {"user_id": u, "item_id": i, "rating": 2.0 + (u * i) % 9, "timestamp": 1.6e9}
        for u in range(1, 21)
        for i in range(1, 16)
        if (u + i) % 3
    ]
    client.create_or_update_ratings_bulk(rows)


def test_training_starts_by_itself_and_is_listed_as_a_task(server: Any) -> None:
    client = fresh(server)
    assert client.status()["status"] == "pending"
    small_data(client)
    client.wait_until_ready(timeout=120, sleep=0.3)
    tasks = client.get_background_tasks("ml_model_retrain")["tasks"]
    assert tasks and tasks[0]["status"] == "COMPLETED" and "trained on" in tasks[0]["progress"]
    assert isinstance(tasks[0]["start_time"], float)
    models = client.list_trained_models()["trained_models"]
    assert models and models[0]["algorithm"]


def test_trigger_and_wait_then_duplicate_trigger(server: Any) -> None:
    client = fresh(server)
    small_data(client)
    client.wait_until_ready(timeout=120, sleep=0.3)
    client.trigger_and_wait_background_task("ml_model_retrain", timeout=120, sleep=0.3)
    task_id = client.trigger_background_task("ml_model_retrain")["task_id"]
    with pytest.raises(DuplicatedError) as duplicated:
        client.trigger_background_task("ml_model_retrain")
    assert duplicated.value.data["name"] == "TASK_ALREADY_RUNNING"
    assert client.wait_for_background_task(
        "ml_model_retrain", timeout=120, sleep=0.3, filtr=lambda t: t["task_id"] == task_id
    )
    statuses = [t["status"] for t in client.get_background_tasks("ml_model_retrain")["tasks"]]
    assert statuses.count("COMPLETED") >= 3


def test_training_without_data_fails_with_its_reason(server: Any) -> None:
    client = fresh(server)
    with pytest.raises(RuntimeError, match="nothing to train on"):
        client.trigger_and_wait_background_task("ml_model_retrain", timeout=60, sleep=0.3)
    assert client.status()["status"] == "pending"


def test_unknown_task_name_is_wrong_data(server: Any) -> None:
    client = fresh(server)
    with pytest.raises(WrongData):
        client.trigger_background_task("mine_bitcoins")


def test_deleting_a_database_while_it_trains_leaves_training_working(server: Any) -> None:
    doomed = fresh(server)
    small_data(doomed)
    task_id = doomed.trigger_background_task("ml_model_retrain")["task_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        task = next(
            t
            for t in doomed.get_background_tasks("ml_model_retrain")["tasks"]
            if t["task_id"] == task_id
        )
        if task["progress"] != "queued":  # the trainer has taken the run
            break
        time.sleep(0.02)
    doomed.delete_database()  # regression: the trainer thread died on the vanished database
    survivor = fresh(server)
    small_data(survivor)
    survivor.wait_until_ready(timeout=120, sleep=0.3)
