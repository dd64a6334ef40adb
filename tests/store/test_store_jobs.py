"""Background tasks, trained models and recommendation scenarios."""

from __future__ import annotations

from dataclasses import replace

from recoapi.store.base import DatabaseRecord, Store, TaskRecord

RETRAIN = "ml_model_retrain"


def test_tasks_upsert_list_and_fail_when_interrupted(store: Store, db: DatabaseRecord) -> None:
    running = TaskRecord("t1", db.n, RETRAIN, 1.0, "RUNNING")
    sent = TaskRecord("t2", db.n, RETRAIN, 2.0, "REQUEST_SENT")
    other = TaskRecord("t3", db.n, "other", 3.0, "COMPLETED", "done", 4.0)
    for task in (running, sent, other):
        store.save_task(task)
    done = replace(running, status="COMPLETED", progress="ok", end_time=5.0)
    store.save_task(replace(done, name="renamed", start_time=9.0))  # only the outcome changes
    assert store.list_tasks(db.n, RETRAIN, 0, 10) == [sent, done]  # newest first
    assert store.list_tasks(db.n, RETRAIN, 1, 1) == [done]
    store.fail_running_tasks("the server stopped")
    failed = store.list_tasks(db.n, RETRAIN, 0, 1)[0]
    assert (failed.status, failed.progress) == ("FAILED", "the server stopped")
    assert failed.end_time is not None
    assert store.list_tasks(db.n, RETRAIN, 1, 1) == [done]
    assert store.list_tasks(db.n, "other", 0, 10) == [other]


def test_models_newest_first(store: Store, db: DatabaseRecord) -> None:
    store.save_model(db.n, "m1", "ALS", "/models/1", 1.0)
    store.save_model(db.n, "m2", "EASE", "/models/2", 2.0)
    assert store.list_models(db.n) == [
        ("m2", 2.0, "EASE", "/models/2"),
        ("m1", 1.0, "ALS", "/models/1"),
    ]


def test_scenarios_and_defaults(store: Store, db: DatabaseRecord) -> None:
    n, kind = db.n, "item_to_items"
    case = {"scenario_type": "case", "case": {"filters": ["year:gt:1990"], "x": [1.5, None]}}
    store.save_scenario(n, kind, "b", case)
    store.save_scenario(n, kind, "a", {"scenario_type": "case"})
    store.save_scenario(n, "profile_to_items", "a", {})
    assert store.get_default_scenario(n, kind) is None
    store.set_default_scenario(n, kind, "b")
    assert store.get_default_scenario(n, kind) == "b"
    assert store.get_default_scenario(n, "profile_to_items") is None
    store.save_scenario(n, kind, "b", {"new": 1})  # a new body keeps the default
    assert store.get_scenario(n, kind, "b") == {"new": 1}
    assert store.get_default_scenario(n, kind) == "b"
    assert store.list_scenarios(n) == [
        (kind, "a", {"scenario_type": "case"}),
        (kind, "b", {"new": 1}),
        ("profile_to_items", "a", {}),
    ]
    store.set_default_scenario(n, kind, "a")
    assert store.get_default_scenario(n, kind) == "a"
    store.set_default_scenario(n, kind, None)
    assert store.get_default_scenario(n, kind) is None
    store.set_default_scenario(n, kind, "b")
    assert store.delete_scenario(n, kind, "b")
    assert not store.delete_scenario(n, kind, "b")
    assert store.get_scenario(n, kind, "b") is None
    assert store.get_default_scenario(n, kind) is None
    assert store.get_scenario(n, kind, "a") == {"scenario_type": "case"}
    store.save_scenario(n, kind, "c", case)
    assert store.get_scenario(n, kind, "c") == case
