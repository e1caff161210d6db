"""The alert manager's pull sources come from the services the composition root built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bastion.services import Services
from bastion.settings import load_settings
from bastion.settings.alerts import AlertRuleSettings
from bastion.wiring import build_services, close_services
from bastion.wiring.alert_sources import alert_sources

ALWAYS = {"breaker_open", "review_backlog", "quarantine_rate"}


async def _built(data_dir: Path, **settings: Any) -> AsyncIterator[Services]:
    svc = await build_services(load_settings(data_dir=data_dir, demo=False, **settings))
    try:
        yield svc
    finally:
        await close_services(svc)


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[Services]:
    async for svc in _built(tmp_path / "data", monitoring={"enabled": True}):
        yield svc


@pytest.fixture
async def unmetered(tmp_path: Path) -> AsyncIterator[Services]:
    async for svc in _built(
        tmp_path / "data",
        monitoring={"enabled": True},
        observability={"metrics_enabled": False},
    ):
        yield svc


def _sources(svc: Services) -> dict[str, Any]:
    return alert_sources(
        gateway=svc.gateway,
        review=svc.review,
        data=svc.data,
        metrics=svc.metrics,
        monitoring=svc.monitoring,
    )


async def test_every_kind_with_a_source_is_handed_to_the_manager(metered: Services) -> None:
    assert set(metered.alerts.status()["sources"]) == ALWAYS | {"drift", "accuracy"}


async def test_drift_reads_the_gauge_monitoring_sets(metered: Services) -> None:
    assert metered.metrics is not None
    metered.metrics.drift_score.labels(deployment="fraud", signal="_overall").set(0.4)
    rule = AlertRuleSettings(name="d", kind="drift", threshold=0.1)
    measured = await _sources(metered)["drift"](rule)
    assert measured["fraud"].value == 0.4


async def test_review_backlog_reads_the_review_queue(metered: Services) -> None:
    rule = AlertRuleSettings(name="b", kind="review_backlog", threshold=1)
    assert await _sources(metered)["review_backlog"](rule) == {}  # nothing queued


async def test_without_metrics_drift_reads_the_drift_monitor(unmetered: Services) -> None:
    """No gauge to read: drift rules read the monitor's reports; accuracy has no source."""
    assert unmetered.metrics is None
    assert set(unmetered.alerts.status()["sources"]) == ALWAYS | {"drift"}
    rule = AlertRuleSettings(name="d", kind="drift", threshold=0.1)
    assert await _sources(unmetered)["drift"](rule) == {}  # no version monitored yet
