"""Audit fixtures: a SqlAuditStore and an AuditLog on SQLite and PostgreSQL, a fixed clock."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.observability.audit import AuditEntry, AuditLog
from bastion.observability.audit.sql import SqlAuditStore
from bastion.settings.audit import AuditSettings
from bastion.store import Database, migrate
from tests.support import WallClock


def Clock() -> WallClock:  # noqa: N802 (a factory standing in for the old class)
    """A wall clock that ticks one millisecond per reading."""
    return WallClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick_s=0.001)


def entry(n: int, **overrides: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "kind": "interaction",
        "action": "predict",
        "at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=n),
        "actor_key_id": "key_1",
        "actor_name": "alice",
        "tenant": "acme",
        "deployment": "scorer",
        "version": 3,
        "request_id": f"req-{n}",
        "input_sha256": "a" * 64,
        "output_sha256": "b" * 64,
        "cost": 0.25,
        "decision": "answered",
        "guards": {"pii": {"EMAIL": 1}, "injection": None},
        "details": {"api": "predict"},
    }
    values.update(overrides)
    return AuditEntry(**values)


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlAuditStore]:
    s = SqlAuditStore(database)
    yield s
    await s.aclose()


@pytest.fixture
async def make_log(
    database: Database,
) -> AsyncIterator[Callable[..., AuditLog]]:
    logs: list[AuditLog] = []

    def make(**settings: Any) -> AuditLog:
        log = AuditLog(SqlAuditStore(database), AuditSettings(**settings), clock=Clock())
        logs.append(log)
        return log

    yield make
    for log in logs:
        await log.aclose()


@pytest.fixture
async def sqlite_path(tmp_path: Path) -> Path:
    """A migrated SQLite file with a scratch table for the writer thread's row inserts."""
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE writer_test (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return path
