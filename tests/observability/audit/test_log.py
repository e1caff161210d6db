"""AuditLog: group commit, durable before return, one chain across writers, bounded outages."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bastion.errors import Overloaded
from bastion.observability.audit import AuditEntry, AuditLog, AuditQuery, AuditRecord, verify_log
from bastion.observability.audit.sql import SqlAuditStore
from bastion.security import Principal
from bastion.settings.audit import AuditSettings
from bastion.store import Database, migrate
from tests.observability.audit.conftest import Clock, entry


class GatedStore(SqlAuditStore):
    """Holds its first batch until the test opens the gate; counts batch sizes."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.batches: list[int] = []

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        self.entered.set()
        await self.gate.wait()
        self.batches.append(len(entries))
        return await super().append(entries)


async def test_append_returns_only_after_commit_and_batches_form_meanwhile(
    database: Database,
) -> None:
    store = GatedStore(database)
    log = AuditLog(store, AuditSettings(), clock=Clock())
    try:
        first = asyncio.create_task(log.append(entry(0)))
        await store.entered.wait()  # the first batch is being written …
        rest = [asyncio.create_task(log.append(entry(i))) for i in range(1, 50)]
        await asyncio.sleep(0)
        assert not first.done()  # … and nobody returns before it commits
        store.gate.set()
        await asyncio.gather(first, *rest)
        assert store.batches == [1, 49]  # one transaction for everything queued meanwhile
        found = await store.query(AuditQuery(limit=1000))
        assert [r.request_id for r in found] == [f"req-{i}" for i in range(50)]
        assert (await verify_log(store)).ok
    finally:
        await log.aclose()


async def test_admin_records_the_principal(make_log: Callable[..., AuditLog]) -> None:
    log = make_log()
    admin = Principal("key_9", "ops-bot", "acme", frozenset({"admin"}))
    await log.admin(admin, "model.promoted", "scorer", {"alias": "production", "version": 2})
    await log.admin("cli:carol", "key.revoked", "key_3")
    records = await log.store.query(AuditQuery(kind="admin"))
    assert [(r.action, r.actor_key_id, r.actor_name, r.tenant) for r in records] == [
        ("model.promoted", "key_9", "ops-bot", "acme"),
        ("key.revoked", None, "cli:carol", None),
    ]
    assert records[0].target == "scorer"
    assert records[0].to_json()["details"] == {"alias": "production", "version": 2}


async def test_two_writers_on_one_database_extend_one_chain(
    make_log: Callable[..., AuditLog],
) -> None:
    # two logs with their own engines, as two workers or replicas would have
    a, b = make_log(max_batch=7), make_log(max_batch=5)
    await asyncio.gather(
        *(a.append(entry(i, request_id=f"a-{i}")) for i in range(60)),
        *(b.append(entry(i, request_id=f"b-{i}")) for i in range(60)),
    )
    report = await verify_log(a.store)
    assert report.ok, report.broken
    assert report.checked == 120 and report.last_seq == 120


async def test_a_writer_rereads_the_head_after_another_writer_appended(
    make_log: Callable[..., AuditLog],
) -> None:
    # the SQLite writer caches the head between its own commits; another writer's commit
    # must invalidate it, or the chain would fork
    a, b = make_log(), make_log()
    for i in range(6):
        await (a if i % 3 else b).append(entry(i, request_id=f"r-{i}"))
    report = await verify_log(a.store)
    assert report.ok, report.broken
    assert report.checked == 6 and report.last_seq == 6


async def test_queue_bound_answers_overloaded(database: Database) -> None:
    store = GatedStore(database)
    log = AuditLog(store, AuditSettings(max_pending=3), clock=Clock())
    try:
        held = [asyncio.create_task(log.append(entry(0)))]
        await store.entered.wait()  # one batch in flight …
        held += [asyncio.create_task(log.append(entry(i))) for i in range(1, 4)]
        await asyncio.sleep(0)  # … and three waiting: the queue is full
        with pytest.raises(Overloaded, match="waiting for the database"):
            await log.append(entry(9))
        store.gate.set()
        await asyncio.gather(*held)
    finally:
        await log.aclose()


async def test_a_stuck_database_answers_overloaded_in_bounded_time(database: Database) -> None:
    store = GatedStore(database)  # the gate never opens: a database that does not answer
    log = AuditLog(store, AuditSettings(timeout_s=0.2), clock=Clock())
    try:
        with pytest.raises(Overloaded) as caught:
            await log.append(entry(1))
        assert caught.value.retry_after is not None
        store.gate.set()
        # the writer carries on once the database is back (on a loaded machine one commit
        # can itself outlast the short test timeout, so allow a few tries)
        for attempt in range(20):
            try:
                await log.append(entry(2))
                break
            except Overloaded:
                if attempt == 19:
                    raise
    finally:
        await log.aclose()


async def test_a_locked_sqlite_database_answers_overloaded(tmp_path: Path) -> None:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    log = AuditLog(SqlAuditStore(db), AuditSettings(timeout_s=0.3), clock=Clock())
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(Overloaded, match="database"):
            await log.append(entry(1))
        other.execute("ROLLBACK")
        await log.append(entry(2))
        assert (await verify_log(log.store)).ok
    finally:
        other.close()
        await log.aclose()
        await db.aclose()


@pytest.mark.postgres
async def test_postgres_gone_answers_overloaded(postgres_databases: Any) -> None:
    url = postgres_databases.create()
    await migrate.upgrade(url)
    db = Database(url)
    log = AuditLog(SqlAuditStore(db), AuditSettings(timeout_s=5), clock=Clock())
    try:
        await log.append(entry(1))
        name = make_url(url).database
        with psycopg.connect(postgres_databases.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # gone under the server
        with pytest.raises(Overloaded, match="database is unavailable"):
            await log.append(entry(2))
    finally:
        await log.aclose()
        await db.aclose()


async def test_closed_log_refuses_and_close_flushes(make_log: Callable[..., AuditLog]) -> None:
    log = make_log()
    pending = asyncio.create_task(log.append(entry(1)))
    await asyncio.sleep(0)
    await log.aclose()
    await pending
    assert (await verify_log(log.store)).checked == 1
    with pytest.raises(Overloaded, match="shutting down"):
        await log.append(entry(2))
