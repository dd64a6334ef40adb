"""Organizations, accounts, service keys and refresh tokens, on every backend."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from storekit import DB_ERRORS

from recoapi.store.base import AccountRecord, RefreshTokenRecord, Store


def person(org_id: str, email: str, **fields: object) -> AccountRecord:
    return AccountRecord(uuid.uuid4().hex, org_id, "individual", "admin", email=email, **fields)


def service(org_id: str, name: str) -> AccountRecord:
    return AccountRecord(uuid.uuid4().hex, org_id, "service", "frontend", name=name)


def test_organization_metadata(store: Store) -> None:
    org = store.create_organization("example.com")
    assert store.get_organization_metadata(org) == {}
    store.set_organization_metadata(org, {"plan": {"seats": 3}, "tags": ["a", "é"]})
    assert store.get_organization_metadata(org) == {"plan": {"seats": 3}, "tags": ["a", "é"]}
    assert store.get_organization_metadata("missing") == {}


def test_accounts_round_trip(store: Store) -> None:
    org = store.create_organization("example.com")
    alice = person(org, "alice@example.com", password_hash="h", first_name="A", metadata={"k": 1})
    bot = service(org, "bot")
    store.create_account(alice)
    store.create_account(bot)
    assert store.get_account(alice.id) == alice
    assert store.find_account(email="Alice@Example.com") == alice  # looked up lower-cased
    assert store.find_account(name="bot") == bot
    assert store.find_account(email="nobody@example.com") is None
    assert store.list_accounts(org) == [alice, bot]  # in creation order
    with pytest.raises(DB_ERRORS):  # emails are unique
        store.create_account(person(org, "alice@example.com"))

    store.update_account(alice.id, role="root", last_name="L", metadata={"k": 2})
    alice = dataclasses.replace(alice, role="root", last_name="L", metadata={"k": 2})
    assert store.get_account(alice.id) == alice
    store.delete_account(bot.id)
    assert store.get_account(bot.id) is None and store.list_accounts(org) == [alice]


def test_service_keys(store: Store) -> None:
    org, other = store.create_organization("a.com"), store.create_organization("b.com")
    bot = service(org, "bot")
    store.create_account(bot)
    key = store.create_service_key(bot.id, "hash-1", None, {"env": "prod"})
    later = store.create_service_key(bot.id, "hash-2", time.time() + 60, {})
    assert store.list_service_keys(bot.id) == [key, later]
    assert store.find_service_key(bot.id, "hash-1") == key
    assert store.find_service_key(bot.id, "hash-3") is None
    assert not store.delete_service_key(other, key.id)  # another organization's key
    assert store.delete_service_key(org, key.id)
    assert not store.delete_service_key(org, key.id)
    assert store.list_service_keys(bot.id) == [later]
    store.delete_account(bot.id)  # an account's keys go with it
    assert store.find_service_key(bot.id, "hash-2") is None


def test_refresh_tokens_are_single_use(store: Store) -> None:
    org = store.create_organization("example.com")
    alice = person(org, "alice@example.com")
    store.create_account(alice)
    record = RefreshTokenRecord(alice.id, "db-1", {"user": "7"}, time.time() + 60)
    store.save_refresh_token("t1", record)
    assert store.pop_refresh_token("t1") == record
    assert store.pop_refresh_token("t1") is None
    store.save_refresh_token("old", dataclasses.replace(record, expires=time.time() - 1))
    store.save_refresh_token("t2", dataclasses.replace(record, db_id=None))  # purges expired
    assert store.pop_refresh_token("old") is None
    assert store.pop_refresh_token("t2") == dataclasses.replace(record, db_id=None)
