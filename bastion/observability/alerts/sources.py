"""Pull-style signals: breaker state, review backlog, drift and accuracy from other services.

Each source is ``async (rule) -> {subject: Measure}``, built from one typed reader. Which
sources a server has is decided where its services are built (``bastion/wiring/
alert_sources.py``), which hands each one to ``AlertManager.add_source`` by rule kind; see
docs/alerts.md, "Where signals come from".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from bastion.errors import BastionError
from bastion.observability.alerts.rules import Measure
from bastion.settings.alerts import AlertRuleSettings

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

Source = Callable[[AlertRuleSettings], Awaitable[dict[str, Measure]]]
OVERALL = "_overall"
ALL = "_all"
QUALITY_GAUGE = "bastion_model_quality"


class Collecting(Protocol):
    """A Prometheus gauge or registry: what the gauge sources read."""

    def collect(self) -> Iterable[Metric]: ...


class DriftFigures(Protocol):
    """What the drift source reads of one report (``bastion.monitoring.DriftReport``)."""

    @property
    def status(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def rows(self) -> int: ...
    def drifted(self) -> list[str]: ...


class DriftReader(Protocol):
    """The two methods of ``bastion.monitoring.DriftMonitor`` the drift source reads."""

    def monitored(self) -> list[tuple[str, int]]: ...
    def report(self, deployment: str, version: int) -> DriftFigures: ...


def breaker_source(status: Callable[[], list[dict[str, Any]]]) -> Source:
    """Open circuit breakers per LLM group, from ``Gateway.status()``."""

    async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
        out: dict[str, Measure] = {}
        for group in status():
            upstreams = group.get("upstreams") or []
            opened = [u.get("name") for u in upstreams if _breaker_state(u) == "open"]
            details = {"open": opened, "upstreams": len(upstreams)}
            out[str(group.get("group"))] = Measure(float(len(opened)), len(upstreams), details)
        return out

    return read


def _breaker_state(upstream: Mapping[str, Any]) -> str | None:
    breaker = upstream.get("breaker")
    return breaker.get("state") if isinstance(breaker, Mapping) else None


def gauge_source(gauge: Collecting, label: str = "deployment") -> Source:
    """The largest value per ``label`` of a prometheus_client gauge.

    A ``signal`` label (``bastion_drift_score``) is read at ``_overall`` only: its other
    values are per-signal statistics, not scores. Other labels (version, feature) are
    reduced to their worst value.
    """

    async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
        out: dict[str, Measure] = {}
        for metric in gauge.collect():
            for sample in metric.samples:
                subject = sample.labels.get(label)
                if subject is None or sample.labels.get("signal", OVERALL) != OVERALL:
                    continue
                value = float(sample.value)
                if subject not in out or value > out[subject].value:
                    out[subject] = Measure(value, 0, dict(sample.labels))
        return out

    return read


def quality_source(registry: Collecting, metric: str = "accuracy") -> Source:
    """Accuracy per deployment from the monitoring team's ``bastion_model_quality`` gauge
    (labels deployment, version, window, segment, value, metric): the newest version's
    whole-traffic figure (``segment="_all"``), in the worst of its windows that has at least
    ``min_requests`` labels (``metric="labelled"``)."""

    async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
        figures: dict[tuple[str, int, str], dict[str, float]] = {}
        for family in registry.collect():
            if family.name != QUALITY_GAUGE:
                continue
            for sample in family.samples:
                labels = sample.labels
                if labels.get("segment") != ALL or labels.get("metric") not in (metric, "labelled"):
                    continue
                try:
                    key = (labels["deployment"], int(labels["version"]), labels["window"])
                except (KeyError, ValueError):
                    continue
                figures.setdefault(key, {})[labels["metric"]] = float(sample.value)
        newest: dict[str, int] = {}
        for deployment, version, _ in figures:
            newest[deployment] = max(version, newest.get(deployment, version))
        out: dict[str, Measure] = {}
        for (deployment, version, window), got in sorted(figures.items()):
            value, labelled = got.get(metric), int(got.get("labelled", 0))
            if version != newest[deployment] or value is None or labelled < rule.min_requests:
                continue
            if deployment not in out or value < out[deployment].value:
                details = {"version": version, "window": window, "labelled": labelled}
                out[deployment] = Measure(value, labelled, details)
        return out

    return read


def counts_source(counts: Callable[[], Awaitable[Mapping[str, int]]]) -> Source:
    """A per-deployment count, e.g. ``ReviewQueue.backlog()`` (pending items)."""

    async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
        return {name: Measure(float(n), int(n)) for name, n in (await counts()).items()}

    return read


def drift_monitor_source(monitor: DriftReader) -> Source:
    """Drift score per deployment from a ``DriftMonitor`` (its latest monitored version).

    Reports are computed in a worker thread: they run statistics over whole windows.
    """

    async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
        latest: dict[str, int] = {}
        for deployment, version in monitor.monitored():
            latest[deployment] = max(version, latest.get(deployment, version))
        return await asyncio.to_thread(_drift_reports, monitor, latest)

    return read


def _drift_reports(monitor: DriftReader, latest: Mapping[str, int]) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    for deployment, version in latest.items():
        try:
            report = monitor.report(deployment, version)
        except BastionError:  # collecting its baseline, or dropped meanwhile
            continue
        if report.status == "insufficient_data":
            continue
        score = float(report.score) if report.status == "drift" else 0.0
        details = {"version": version, "status": report.status, "drifted": report.drifted()}
        out[deployment] = Measure(score, int(report.rows), details)
    return out
