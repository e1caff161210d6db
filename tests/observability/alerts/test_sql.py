"""SqlAlertHistory: one active alert per dedupe key, even when processes race for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bastion.observability.alerts import NewAlert
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.store import Database

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _new(key: str = "errors:fraud", **kw: object) -> NewAlert:
    fields: dict[str, object] = {
        "rule": "errors",
        "kind": "error_rate",
        "severity": "critical",
        "summary": "error rate of fraud is 60%",
        "deployment": "fraud",
        "details": {"value": 0.6, "names": ["a", "b"]},
        **kw,
    }
    return NewAlert(key, **fields)  # type: ignore[arg-type]


async def test_open_touch_close_and_history(database: Database) -> None:
    history = SqlAlertHistory(database)
    first = await history.open(_new(), at=T0, by="p1")
    assert first is not None and first.state == "firing" and first.details["names"] == ["a", "b"]
    assert first.fired_at == T0 and first.fired_at.tzinfo is not None
    assert await history.open(_new(), at=T0 + timedelta(seconds=5), by="p2") is None
    (active,) = await history.active()
    assert (active.last_seen_by, active.last_seen_at) == ("p2", T0 + timedelta(seconds=5))
    assert await history.touch("errors:fraud", at=T0 + timedelta(seconds=9), by="p1")
    assert not await history.touch("nothing", at=T0, by="p1")
    # seen 1 s before the cut-off: not resolved yet; then resolved exactly once
    cut = T0 + timedelta(seconds=9)
    assert (
        await history.close("errors:fraud", at=T0 + timedelta(seconds=20), unseen_since=cut) is None
    )
    later = T0 + timedelta(seconds=30)
    closed = await history.close("errors:fraud", at=later, unseen_since=later)
    assert closed is not None and closed.resolved_at == later and closed.state == "resolved"
    assert await history.close("errors:fraud", at=later) is None
    again = await history.open(_new(), at=later, by="p1")  # a new episode, a new row
    assert again is not None and again.id != first.id
    await history.open(_new("latency:chat", deployment="chat", rule="latency"), at=later, by="p1")
    assert [a.id for a in await history.history()] == [again.id + 1, again.id, first.id]
    assert [a.id for a in await history.history(state="resolved")] == [first.id]
    assert [a.rule for a in await history.history(deployment="chat")] == ["latency"]
    assert [a.id for a in await history.history(rule="errors", before_id=again.id)] == [first.id]
    assert [a.id for a in await history.history(limit=1)] == [again.id + 1]
    assert (await history.get(first.id)) == closed
    assert await history.get(9999) is None


async def test_racing_processes_create_one_active_alert(database_url: str) -> None:
    """Eight connections (as eight workers would) fire the same key at once: one row wins."""
    dbs = [Database(database_url) for _ in range(8)]
    try:
        results = await asyncio.gather(
            *(SqlAlertHistory(db).open(_new(), at=T0, by=f"p{i}") for i, db in enumerate(dbs))
        )
        assert sum(r is not None for r in results) == 1
        assert len(await SqlAlertHistory(dbs[0]).active()) == 1
        closes = await asyncio.gather(
            *(SqlAlertHistory(db).close("errors:fraud", at=T0) for db in dbs)
        )
        assert sum(c is not None for c in closes) == 1
    finally:
        for db in dbs:
            await db.aclose()


async def test_ack_records_who_and_only_while_firing(database: Database) -> None:
    history = SqlAlertHistory(database)
    alert = await history.open(_new(), at=T0, by="p1")
    assert alert is not None
    acked = await history.ack(alert.id, actor="on-call", at=T0 + timedelta(minutes=1))
    assert acked is not None and acked.acked_by == "on-call"
    assert acked.to_dict()["acked_at"] == "2025-06-01T12:01:00+00:00"
    await history.close(alert.dedupe_key, at=T0 + timedelta(minutes=2))
    assert await history.ack(alert.id, actor="late", at=T0) is None
    assert await history.ack(12345, actor="x", at=T0) is None
