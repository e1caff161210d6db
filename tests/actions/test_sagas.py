"""Sagas and conflicts: compensation in reverse, optimistic concurrency on SQL and HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bastion.actions.outbox import OutboxStore
from bastion.store import Database
from bastion.store.database import create_engine
from tests.actions.helpers import close, dispatcher, drain, intents, settings
from tests.actions.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.close()


def step(name: str, path: str, undo: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "destination": "hook", "path": path, "body": {"s": name}}
    if undo is not None:
        out["compensate"] = {"destination": "hook", "path": undo, "body": {"undo": name}}
    return out


async def test_a_saga_whose_third_step_fails_compensates_two_then_one(
    database: Database, receiver: Receiver
) -> None:
    saga = {
        "name": "refund",
        "max_attempts": 2,
        "steps": [
            step("reserve", "/reserve", "/unreserve"),
            step("charge", "/charge", "/refund"),
            step("ship", "/fail", "/unship"),
        ],
    }
    receiver.refuse_paths = {"/fail"}
    store = OutboxStore(database)
    dest = {"hook": {"kind": "http", "url": receiver.url}}
    await store.insert(intents(1, action="refund"))
    d = dispatcher(store, settings(dest, [saga]))
    [row] = await drain(d, store)
    await close(d)
    assert row.status == "compensated"
    order = [v["path"] for v in receiver.accepted.values()]
    assert order == ["/reserve", "/charge", "/refund", "/unreserve"]  # two, then one
    assert set(receiver.accepted) == {
        "req-0:0:refund:reserve",
        "req-0:0:refund:charge",
        "req-0:0:refund:charge:compensate",
        "req-0:0:refund:reserve:compensate",
    }
    _, attempts = await store.get(row.id, None, all_tenants=True)
    seen = [(a.step_name, a.phase, a.outcome) for a in attempts]
    assert seen == [
        ("reserve", "forward", "ok"),
        ("charge", "forward", "ok"),
        ("ship", "forward", "permanent"),
        ("charge", "compensate", "ok"),
        ("reserve", "compensate", "ok"),
    ]


async def _target(path: Path) -> str:
    """The database an action updates: one versioned row."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE accounts (id TEXT PRIMARY KEY, value TEXT, version INT)")
        )
        await conn.execute(text("INSERT INTO accounts VALUES ('a', 'start', 1)"))
    await engine.dispose()
    return url


UPDATE = (
    "UPDATE accounts SET value = :value, version = version + 1 "
    "WHERE id = 'a' AND version = :expected"
)


@pytest.mark.parametrize("policy", ["retry", "fail", "review"])
async def test_two_concurrent_updates_of_one_row_one_wins_the_other_follows_policy(
    database: Database, tmp_path: Path, policy: str
) -> None:
    url = await _target(tmp_path / "target.db")
    update = {
        "name": "set",
        "destination": "db",
        "statement": UPDATE,
        "params": {"value": "{{ input.n }}", "expected": 1},
        "expect_rows": 1,
        "reread": "SELECT version FROM accounts WHERE id = 'a'",
    }
    action = {"name": "update", "on_conflict": policy, "max_attempts": 3, "steps": [update]}
    cfg = settings({"db": {"kind": "sql", "url": url}}, [action])
    store = OutboxStore(database)
    await store.insert(intents(2, action="update"))
    d = dispatcher(store, cfg)
    rows = await drain(d, store)
    await close(d)
    status = sorted(r.status for r in rows)
    engine = create_engine(url)
    async with engine.connect() as conn:
        value, version = (await conn.execute(text("SELECT value, version FROM accounts"))).one()
    await engine.dispose()
    if policy == "retry":  # re-read the version, then applied on top of the winner
        assert status == ["done", "done"] and version == 3
    elif policy == "fail":
        assert status == ["dead", "done"] and version == 2
        [dead] = [r for r in rows if r.status == "dead"]
        assert "conflict" in (dead.last_error or "")
    else:  # review: parked with both versions shown
        assert status == ["conflict", "done"] and version == 2
        [parked] = [r for r in rows if r.status == "conflict"]
        assert parked.details["conflict"] == {"expected": 1, "current": 2}
    assert value in ("0", "1")


async def test_http_if_match_412_is_a_conflict_retried_after_a_reread(
    database: Database, receiver: Receiver
) -> None:
    put = {
        "name": "put",
        "destination": "hook",
        "method": "PUT",
        "path": "/items/x",
        "if_match": '"1"',
        "body": {"value": "{{ input.n }}"},
    }
    action = {"name": "update", "on_conflict": "retry", "steps": [put]}
    store = OutboxStore(database)
    await store.insert(intents(2, action="update"))
    d = dispatcher(store, settings({"hook": {"kind": "http", "url": receiver.url}}, [action]))
    rows = await drain(d, store)
    await close(d)
    assert [r.status for r in rows] == ["done", "done"]
    assert receiver.items["x"]["version"] == 3  # both applied, the second on a fresh ETag
