"""Freshness: a collection past its staleness target raises one alert (on every replica the
same episode), re-indexing resolves it; document age is a metric."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from bastion.observability.alerts import AlertManager
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.rag import RagService
from bastion.rag.freshness import Freshness, dedupe_key
from bastion.settings.alerts import AlertSettings
from tests.rag.conftest import ALICE


async def test_a_stale_collection_raises_its_alert_until_reindexed(
    services: Callable[..., RagService],
) -> None:
    one, two = services(), services()
    await one.create_collection(ALICE, "news", staleness_target_s=3600)
    await one.create_collection(ALICE, "archive")  # no target: never alerts
    await one.index(ALICE, "news", "a.txt", b"Yesterday's headlines.")
    await one.index(ALICE, "archive", "b.txt", b"Old records.")
    registry = CollectorRegistry()
    alerts = []
    for svc in (one, two):
        manager = AlertManager.from_settings(AlertSettings(), SqlAlertHistory(svc.store.db))
        svc.freshness = Freshness(
            svc.store, 3600, alerts=manager, registry=registry if svc is one else None
        )
        alerts.append(manager)

    now = datetime.now(UTC)
    fresh = {s.collection: s for s in await one.freshness.check(now)}
    assert not fresh["news"].stale
    assert await alerts[0].active() == []

    later = now + timedelta(hours=2)
    for svc in (one, two):  # both replicas see it: still one episode
        stale = {s.collection: s for s in await svc.freshness.check(later)}
        assert stale["news"].stale and not stale["archive"].stale
    active = await alerts[0].active()
    assert [a.dedupe_key for a in active] == [dedupe_key("news")]
    assert active[0].details["collection"] == "news" and "re-index" in active[0].summary
    age = registry.get_sample_value("bastion_rag_document_age_seconds", {"collection": "news"})
    assert age is not None and age >= 7200

    # Re-indexing unchanged content confirms the document current: the alert resolves.
    assert (await one.index(ALICE, "news", "a.txt", b"Yesterday's headlines.")).outcome == (
        "unchanged"
    )
    await two.freshness.check(datetime.now(UTC) + timedelta(seconds=5))
    assert await alerts[0].active() == []
