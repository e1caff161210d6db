"""Rollups: closed periods summed once, the open one live; the sum is the same either way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bastion.console import rollups
from bastion.store import Database
from bastion.store.audit_tables import AuditRecordRow
from bastion.store.console_tables import TrafficHourRow
from bastion.store.usage_tables import UsageRow

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
_seq = iter(range(1, 10_000))


def _audit(at: datetime, tenant: str, status: str = "ok") -> AuditRecordRow:
    seq = next(_seq)
    return AuditRecordRow(
        seq=seq,
        at=at,
        kind="interaction",
        action="predict",
        tenant=tenant,
        deployment="d",
        request_id=f"r{seq}",
        status=status,
        error_type="timeout" if status == "error" else None,
        details="{}",
        prev_hash="0" * 64,
        hash="0" * 64,
    )


def _usage(at: datetime, tenant: str, micros: int) -> UsageRow:
    return UsageRow(
        at=at,
        day=at.date().isoformat(),
        request_id="r",
        tenant=tenant,
        team=None,
        key_id=f"key_{tenant}",
        deployment="d",
        model="m",
        api="predict",
        cost_micros=micros,
    )


async def _add(db: Database, *rows: object) -> None:
    async with db.session() as session:
        session.add_all(rows)
        await session.commit()


async def test_closed_hours_and_days_are_rolled_up_once_and_live_rows_added(
    database: Database,
) -> None:
    three_h, today = NOW - timedelta(hours=3), NOW.date()
    await _add(
        database,
        _audit(three_h, "acme"),
        _audit(three_h, "acme", "error"),
        _audit(three_h, "globex"),
        _audit(NOW - timedelta(minutes=1), "acme"),  # the open hour: live
        _usage(NOW - timedelta(days=2), "acme", 1_000),
        _usage(NOW - timedelta(days=2), "globex", 500),
        _usage(NOW, "acme", 250),  # today: live
    )
    for _ in range(2):  # the second refresh has nothing new to roll up
        marks = await rollups.refresh(database, NOW)
    assert marks == {"traffic_hourly": "2026-03-10 12", "usage_daily": "2026-03-10"}
    async with database.session() as session:
        rolled = await session.scalar(select(func.sum(TrafficHourRow.requests)))
    assert rolled == 3  # the open hour's record is not in the rollup

    start = NOW - timedelta(hours=5)
    hourly, types = await rollups.traffic(database, marks["traffic_hourly"], start, "acme")
    assert hourly == {"2026-03-10 09": (2, 1), "2026-03-10 12": (1, 0)}
    assert types == {"timeout": 1}
    everyone, _ = await rollups.traffic(database, marks["traffic_hourly"], start, None)
    assert everyone["2026-03-10 09"] == (3, 1)

    since = today - timedelta(days=6)
    rows = await rollups.usage(
        database, marks["usage_daily"], ["tenant"], since, today, {"tenant": None}
    )
    assert [(r["tenant"], r["requests"], r["cost_usd"]) for r in rows] == [
        ("acme", 2, 0.00125),
        ("globex", 1, 0.0005),
    ]
    days = await rollups.usage(
        database, marks["usage_daily"], ["day"], since, today, {"tenant": "acme"}
    )
    assert {r["day"]: r["cost_usd"] for r in days} == {
        "2026-03-08": 0.001,
        today.isoformat(): 0.00025,
    }
    none = await rollups.usage(
        database, marks["usage_daily"], ["day"], date(2020, 1, 1), date(2020, 1, 2), {}
    )
    assert none == []
