"""The dispatcher against a real outbox (SQLite and PostgreSQL) and a local HTTP receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bastion.actions.outbox import OutboxStore
from bastion.store import Database
from bastion.store.tables import utcnow
from tests.actions.helpers import close, dispatcher, drain, intents, settings
from tests.actions.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.close()


def http(receiver: Receiver) -> dict[str, object]:
    return {"hook": {"kind": "http", "url": receiver.url, "breaker": {"min_calls": 1000}}}


NOTIFY = {
    "name": "notify",
    "max_attempts": 30,
    "steps": [
        {"name": "post", "destination": "hook", "path": "/hook", "body": {"n": "{{ input.n }}"}}
    ],
}


async def test_1000_delivered_once_through_a_receiver_failing_30_percent(
    database: Database, receiver: Receiver
) -> None:
    receiver.fail_rate = 0.3
    store = OutboxStore(database)
    cfg = settings(http(receiver), [NOTIFY])
    await store.insert(intents(1000))
    d = dispatcher(store, cfg)
    rows = await drain(d, store)
    await close(d)
    assert {r.status for r in rows} == {"done"}
    assert len(receiver.accepted) == 1000
    assert receiver.duplicates == 0  # every key was accepted exactly once
    assert sum(receiver.deliveries.values()) > 1000  # the failures were retried
    keys = {f"req-{i}:0:notify:post" for i in range(1000)}
    assert set(receiver.accepted) == keys  # one idempotency key per decision and step
    bodies = {receiver.accepted[f"req-{i}:0:notify:post"]["body"] for i in range(3)}
    assert bodies == {'{"n":0}', '{"n":1}', '{"n":2}'}


async def test_retry_after_is_honoured_and_attempts_are_recorded(
    database: Database, receiver: Receiver
) -> None:
    receiver.always = 503
    store = OutboxStore(database)
    cfg = settings(http(receiver), [NOTIFY])
    await store.insert(intents(1))
    d = dispatcher(store, cfg)
    receiver.retry_after = None
    receiver.always = None
    receiver.fail_rate = 1.0
    receiver.retry_after = "2"
    before = utcnow()
    assert await d.run_once() == 1
    [row] = await store.browse(None, all_tenants=True, status=None, deployment=None, limit=10)
    assert row.status == "pending" and row.attempts == 1
    assert (row.next_at - before).total_seconds() >= 2  # not before the receiver's Retry-After
    assert row.lease_owner is None  # released until it is due
    _, attempts = await store.get(row.id, None, all_tenants=True)
    assert [(a.outcome, a.status_code) for a in attempts] == [("retry", 503)]
    await close(d)


async def test_a_permanent_refusal_is_dead_then_retried_by_an_operator(
    database: Database, receiver: Receiver
) -> None:
    receiver.always = 422
    store = OutboxStore(database)
    cfg = settings(http(receiver), [NOTIFY])
    await store.insert(intents(1))
    d = dispatcher(store, cfg)
    [row] = await drain(d, store)
    assert row.status == "dead" and "422" in (row.last_error or "")
    assert sum(receiver.deliveries.values()) == 1  # a 4xx is never retried by itself
    receiver.always = None
    again = await store.operate(row.id, "default", all_tenants=False, op="retry", now=utcnow())
    assert again.status == "pending"
    [row] = await drain(d, store)
    assert row.status == "done"
    await close(d)


async def test_breaker_open_postpones_without_spending_attempts(
    database: Database, receiver: Receiver
) -> None:
    receiver.always = 503
    store = OutboxStore(database)
    breaker = {"min_calls": 2, "open_s": 30}
    dest = {"hook": {"kind": "http", "url": receiver.url, "max_concurrency": 1, "breaker": breaker}}
    cfg = settings(dest, [NOTIFY])
    await store.insert(intents(10))
    d = dispatcher(store, cfg)
    await d.run_once()
    rows = await store.browse(None, all_tenants=True, status=None, deployment=None, limit=100)
    assert sum(receiver.deliveries.values()) < 10  # the breaker opened after the first failures
    assert sum(r.attempts for r in rows) == sum(receiver.deliveries.values())
    assert {r.status for r in rows} == {"pending"}
    await close(d)


async def test_two_dispatchers_on_one_outbox_never_deliver_an_action_twice(
    database: Database, receiver: Receiver
) -> None:
    store = OutboxStore(database)
    cfg = settings(http(receiver), [NOTIFY], batch=20)
    await store.insert(intents(200))
    d1, d2 = dispatcher(store, cfg, "w1"), dispatcher(store, cfg, "w2")

    async def loop(d: object) -> None:
        for _ in range(100):
            await d.run_once()  # type: ignore[attr-defined]

    await asyncio.gather(loop(d1), loop(d2))
    rows = await drain(d1, store)
    assert {r.status for r in rows} == {"done"}
    assert len(receiver.accepted) == 200
    assert max(receiver.deliveries.values()) == 1  # no action was sent by both
    keys = [{k.lower(): v for k, v in h.items()}["idempotency-key"] for h in receiver.headers]
    assert len(keys) == len(set(keys)) == 200
    await close(d1)
    await close(d2)
