"""AlertManager end to end in-process: real database (SQLite and PostgreSQL), a local
webhook receiver, and injected clocks instead of sleeping."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bastion.core.clock import FakeClock
from bastion.observability.alerts import AlertManager, Notifier
from bastion.observability.alerts.sources import breaker_source
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.settings.alerts import AlertSettings
from bastion.store import Database
from tests.observability.alerts.conftest import Receiver, Wall


class Clocks:
    """The monotonic clock (signals, ``for_s``) and the wall clock (records) move together."""

    def __init__(self, wall: Wall) -> None:
        self.mono = FakeClock()
        self.wall = wall

    def advance(self, seconds: float) -> None:
        self.mono.advance(seconds)
        self.wall.advance(seconds)


def _settings(receiver: Receiver, **rule: Any) -> AlertSettings:
    spec = {
        "name": "errors",
        "kind": "error_rate",
        "threshold": 0.5,
        "window_s": 10,
        "min_requests": 3,
        "severity": "critical",
        **rule,
    }
    return AlertSettings.model_validate(
        {
            "interval_s": 1,
            "resolve_after_s": 2,
            "bucket_s": 1,
            "buckets": 60,
            "rules": [spec],
            "webhooks": [{"name": "hook", "url": receiver.at("/hook")}],
            "webhook_backoff_s": 0.01,
        }
    )


def _manager(
    settings: AlertSettings, db: Database, clocks: Clocks, process: str = "p1"
) -> AlertManager:
    notifier = Notifier(settings.webhooks, backoff_s=0.01)
    return AlertManager(
        settings,
        SqlAlertHistory(db),
        notifier,
        clock=clocks.mono,
        wall=clocks.wall,
        process=process,
    )


def _errors(manager: AlertManager, n: int, deployment: str = "flaky") -> None:
    for _ in range(n):
        manager.recorder.record(deployment, 0.01, "internal_error")


def _ok(manager: AlertManager, n: int, deployment: str = "flaky") -> None:
    for _ in range(n):
        manager.recorder.record(deployment, 0.01)


async def _round(manager: AlertManager, clocks: Clocks, seconds: float = 1.0) -> None:
    await manager.evaluate()
    await manager.notifier.drain(5)
    clocks.advance(seconds)


async def test_fires_once_after_for_and_resolves_once(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    manager = _manager(_settings(receiver, for_s=2), database, clocks)
    _errors(manager, 5)
    await _round(manager, clocks)  # pending
    assert receiver.posted() == []
    assert manager.status()["rules"][0]["subjects"][0]["phase"] == "pending"
    for _ in range(5):  # fires at for_s, then stays quiet while it holds
        _errors(manager, 2)
        await _round(manager, clocks)
    firing = receiver.posted("/hook")
    assert [b["status"] for b in firing] == ["firing"]
    alert = firing[0]["alert"]
    assert alert["rule"] == "errors" and alert["deployment"] == "flaky"
    assert alert["severity"] == "critical" and alert["details"]["errors"] >= 5
    assert "error rate of flaky is 100.0%, above 50.0%" in alert["summary"]
    (active,) = await manager.active()
    assert active.id == alert["id"] and active.state == "firing"

    _ok(manager, 50)  # recovers: the rate drops below the threshold ...
    for _ in range(4):  # ... and after resolve_after_s (2 s) it is resolved once
        await _round(manager, clocks)
    statuses = [b["status"] for b in receiver.posted("/hook")]
    assert statuses == ["firing", "resolved"]
    resolved = receiver.posted("/hook")[1]["alert"]
    assert resolved["id"] == alert["id"] and resolved["resolved_at"] is not None
    assert await manager.active() == []
    (past,) = await manager.list(state="resolved")
    assert past.fired_at < past.resolved_at  # type: ignore[operator]
    await manager.aclose()


async def test_two_processes_notify_once_between_them(
    database_url: str, receiver: Receiver, wall: Wall
) -> None:
    """Each process sees its own errors; the database's unique active key picks one sender,
    and neither resolves the alert while the other still sees its condition."""
    clocks = Clocks(wall)
    settings = _settings(receiver)
    db_a, db_b = Database(database_url), Database(database_url)
    a = _manager(settings, db_a, clocks, "a")
    b = _manager(settings, db_b, clocks, "b")
    try:
        for _ in range(3):
            _errors(a, 4)
            _errors(b, 4)
            await a.evaluate()
            await b.evaluate()
            clocks.advance(1)
        _ok(a, 100)  # a recovers, b still sees errors: the alert stays
        for _ in range(4):
            _errors(b, 4)
            await a.evaluate()
            await b.evaluate()
            clocks.advance(1)
        await a.notifier.drain(5)
        await b.notifier.drain(5)
        assert [x["status"] for x in receiver.posted()] == ["firing"]
        _ok(b, 100)
        for _ in range(4):
            await a.evaluate()
            await b.evaluate()
            clocks.advance(1)
        await a.notifier.drain(5)
        await b.notifier.drain(5)
        assert [x["status"] for x in receiver.posted()] == ["firing", "resolved"]
    finally:
        await a.aclose()
        await b.aclose()
        await db_a.aclose()
        await db_b.aclose()


async def test_pushed_events_dedupe_and_resolve(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    manager = _manager(_settings(receiver), database, clocks)
    for _ in range(3):
        await manager.fire(
            "canary-rolled-back",
            severity="warning",
            deployment="fraud",
            summary="canary v7 rolled back: error rate 12% over 5%",
            details={"version": 7},
            dedupe_key="canary:fraud:7",
        )
    await manager.resolve("canary:fraud:7")
    await manager.resolve("canary:fraud:7")  # twice: one notice
    await manager.resolve("never-fired")
    await manager.notifier.drain(5)
    posted = receiver.posted()
    assert [p["status"] for p in posted] == ["firing", "resolved"]
    assert posted[0]["alert"]["kind"] == "event" and posted[0]["alert"]["details"] == {"version": 7}
    # an event alert is not resolved by rule evaluation, whatever the grace period
    await manager.fire(
        "breaker",
        severity="critical",
        deployment=None,
        summary="breaker opened",
        details={},
        dedupe_key="breaker:x",
    )
    for _ in range(5):
        await _round(manager, clocks)
    assert [a.dedupe_key for a in await manager.active()] == ["breaker:x"]
    await manager.aclose()


async def test_budget_events_alert_until_their_window_ends(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    settings = _settings(receiver, name="budget-80", kind="budget", threshold=0.8)
    manager = _manager(settings, database, clocks)
    event = SimpleNamespace(
        scope="tenant", key="acme", window="2025-06-01", fraction=0.8, spent=80.0, limit=100.0
    )
    below = SimpleNamespace(**{**vars(event), "fraction": 0.5})
    manager.note_budget_events("chat", [event, below])
    manager.note_budget_events("chat", [event])  # the same crossing again: one alert
    await _round(manager, clocks)
    (alert,) = await manager.active()
    assert alert.rule == "budget-80" and alert.deployment == "chat"
    assert "tenant 'acme' has used 80% of its usd budget for 2025-06-01" in alert.summary
    assert alert.expires_at is not None and alert.expires_at.isoformat().startswith("2025-06-02")
    clocks.advance(timedelta(hours=13).total_seconds())  # the day is over
    await _round(manager, clocks)
    assert await manager.active() == []
    assert [p["status"] for p in receiver.posted()] == ["firing", "resolved"]
    await manager.aclose()


async def test_pull_sources_and_pushed_gauges(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    settings = AlertSettings.model_validate(
        {
            "interval_s": 1,
            "rules": [
                {"name": "breakers", "kind": "breaker_open", "threshold": 1},
                {"name": "accuracy", "kind": "accuracy", "threshold": 0.9, "min_requests": 10},
            ],
        }
    )
    manager = _manager(settings, database, clocks)
    status = [
        {
            "group": "chat",
            "upstreams": [
                {"name": "a", "breaker": {"state": "open"}},
                {"name": "b", "breaker": {"state": "closed"}},
            ],
        },
        {"group": "embed", "upstreams": [{"name": "c", "breaker": {"state": "closed"}}]},
    ]
    manager.add_source("breaker_open", breaker_source(lambda: status))
    manager.set_gauge("accuracy", "fraud", 0.7, samples=50)
    manager.set_gauge("accuracy", "spam", 0.7, samples=3)  # too few labels to judge
    await _round(manager, clocks)
    active = {a.dedupe_key: a for a in await manager.active()}
    assert set(active) == {"breakers:chat", "accuracy:fraud"}
    assert active["breakers:chat"].details["open"] == ["a"]
    assert "accuracy of fraud is 70.0%, below 90.0%" in active["accuracy:fraud"].summary
    await manager.aclose()


async def test_a_failing_source_neither_stops_other_rules_nor_resolves_its_alerts(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    settings = AlertSettings.model_validate(
        {
            "interval_s": 1,
            "rules": [
                {"name": "backlog", "kind": "review_backlog", "threshold": 10},
                {"name": "breakers", "kind": "breaker_open", "threshold": 1},
            ],
        }
    )
    manager = _manager(settings, database, clocks)
    broken = {"now": False}

    async def backlog(rule: Any) -> dict[str, Any]:
        if broken["now"]:
            raise ConnectionError("review store down")
        from bastion.observability.alerts import Measure

        return {"fraud": Measure(25, 25)}

    manager.add_source("review_backlog", backlog)
    await _round(manager, clocks)
    assert [a.rule for a in await manager.active()] == ["backlog"]
    broken["now"] = True
    for _ in range(5):
        await _round(manager, clocks)
    assert [a.rule for a in await manager.active()] == ["backlog"]
    assert manager.evaluations == 6
    await manager.aclose()


async def test_run_loop_evaluates_on_the_injected_clock_and_stops(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    manager = _manager(_settings(receiver), database, clocks)
    manager.start()
    while manager.evaluations < 3:
        import asyncio

        await asyncio.sleep(0)
    await manager.aclose()
    assert clocks.mono.sleeps[:3] == [1, 1, 1]


@pytest.mark.parametrize("state", ["firing", "resolved"])
async def test_ack_only_firing_alerts(
    database: Database, receiver: Receiver, wall: Wall, state: str
) -> None:
    clocks = Clocks(wall)
    manager = _manager(_settings(receiver), database, clocks)
    await manager.fire(
        "x", severity="info", deployment="d", summary="s", details={}, dedupe_key="k"
    )
    (alert,) = await manager.active()
    if state == "resolved":
        await manager.resolve("k")
        assert await manager.ack(alert.id, "ops") is None
    else:
        acked = await manager.ack(alert.id, "ops")
        assert acked is not None and acked.acked_by == "ops" and acked.acked_at == wall.now
    await manager.aclose()


# -- episodes: one notification per incident ------------------------------------------------


def _incident_settings(receiver: Receiver) -> AlertSettings:
    """Defaults where they matter (60 s buckets, resolve_after_s unset); rounds every 5 s."""
    spec = {"name": "errors", "kind": "error_rate", "threshold": 0.5, "window_s": 30}
    return AlertSettings.model_validate(
        {
            "interval_s": 5,
            "rules": [{**spec, "for_s": 30, "runbook_url": "https://runbooks.example/errors"}],
            "webhooks": [{"name": "hook", "url": receiver.at("/hook")}],
            "webhook_backoff_s": 0.01,
        }
    )


async def _traffic(manager: AlertManager, clocks: Clocks, seconds: int, *, failing: bool) -> None:
    """A request a second (failing or not), with a round every interval_s."""
    for _ in range(seconds):
        (_errors if failing else _ok)(manager, 1)
        clocks.advance(1)
        if int(clocks.mono.now()) % int(manager.settings.interval_s) == 0:
            await manager.evaluate()
            await manager.notifier.drain(5)


async def test_an_incident_fires_once_and_resolves_once(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    """The defect: with a rule window <= the 60 s bucket, 150 s of errors fired and resolved
    three times (the window emptied at every bucket edge)."""
    clocks = Clocks(wall)
    manager = _manager(_incident_settings(receiver), database, clocks)
    await _traffic(manager, clocks, 150, failing=True)
    await _traffic(manager, clocks, 180, failing=False)
    posted = receiver.posted("/hook")
    assert [p["status"] for p in posted] == ["firing", "resolved"]
    assert posted[0]["alert"]["id"] == posted[1]["alert"]["id"]
    assert posted[0]["alert"]["details"]["runbook_url"] == "https://runbooks.example/errors"
    assert await manager.active() == []
    await manager.aclose()


async def test_an_incident_across_a_restart_neither_resolves_nor_fires_again(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    """The defect: a restart resolved every active alert and fired it again."""
    clocks = Clocks(wall)
    settings = _incident_settings(receiver)
    first = _manager(settings, database, clocks, process="before")
    await _traffic(first, clocks, 75, failing=True)
    await first.aclose()
    assert [p["status"] for p in receiver.posted("/hook")] == ["firing"]
    (opened,) = await first.active()
    clocks.advance(40)  # the restart takes a while; the new process starts with no signals
    second = _manager(settings, database, clocks, process="after")
    await second.resume()
    await _traffic(second, clocks, 75, failing=True)
    assert [p["status"] for p in receiver.posted("/hook")] == ["firing"]
    (still,) = await second.active()
    assert still.id == opened.id
    subjects = second.status()["rules"][0]["subjects"]
    assert subjects[0]["phase"] == "firing"  # the open episode, without waiting for_s again
    await _traffic(second, clocks, 180, failing=False)
    assert [p["status"] for p in receiver.posted("/hook")] == ["firing", "resolved"]
    await second.aclose()


async def test_a_higher_budget_crossing_does_not_refire_a_lower_rule(
    database: Database, receiver: Receiver, wall: Wall
) -> None:
    clocks = Clocks(wall)
    settings = AlertSettings.model_validate(
        {
            "rules": [
                {"name": "budget-50", "kind": "budget", "threshold": 0.5},
                {"name": "budget-80", "kind": "budget", "threshold": 0.8},
            ],
            "webhooks": [{"name": "hook", "url": receiver.at("/hook")}],
        }
    )
    manager = _manager(settings, database, clocks)
    half = SimpleNamespace(
        scope="tenant", key="acme", window="2025-06-01", fraction=0.5, spent=0.005, limit=0.01
    )
    manager.note_budget_events("chat", [half])
    await _round(manager, clocks)
    manager.note_budget_events("chat", [SimpleNamespace(**{**vars(half), "fraction": 0.8})])
    await _round(manager, clocks)
    posted = receiver.posted("/hook")
    assert [(p["status"], p["alert"]["rule"]) for p in posted] == [
        ("firing", "budget-50"),
        ("firing", "budget-80"),
    ]
    assert "($0.005 of $0.01)" in posted[0]["alert"]["summary"]
    await manager.aclose()
