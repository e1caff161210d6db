"""AlertManager: evaluates rules on a schedule, takes pushed events, dedupes, notifies."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from bastion.core.clock import Clock, SystemClock, utcnow
from bastion.observability.alerts.budget import budget_alerts
from bastion.observability.alerts.engine import RuleEngine, Verdict
from bastion.observability.alerts.history import Alert, AlertHistory, NewAlert, State
from bastion.observability.alerts.notify import Notification, Notifier
from bastion.observability.alerts.rules import (
    EVENT_KINDS,
    REQUEST_KINDS,
    Measure,
    measure_requests,
    summarize,
)
from bastion.observability.alerts.signals import SignalRecorder
from bastion.observability.alerts.sources import Source
from bastion.settings.alerts import AlertRuleSettings, AlertSettings

log = structlog.get_logger(__name__)

_MAX_QUEUED_EVENTS = 1000


class AlertManager:
    """The alerting of one server process.

    Every process evaluates the rules over its own signals every ``interval_s``; the database
    keeps at most one active alert per dedupe key, and only the process that creates (or
    resolves) that row notifies, so several workers send one notification between them.
    ``fire``/``resolve`` take events raised elsewhere (a canary rolled back, a breaker
    opened); they notify under the same dedupe.
    """

    def __init__(
        self,
        settings: AlertSettings,
        history: AlertHistory,
        notifier: Notifier,
        *,
        clock: Clock | None = None,
        wall: Callable[[], datetime] = utcnow,
        process: str | None = None,
    ) -> None:
        self.settings = settings
        self.history = history
        self.notifier = notifier
        self._clock = clock or SystemClock()
        self._wall = wall
        self.process = process or uuid.uuid4().hex[:16]
        self.recorder = SignalRecorder(
            settings.bucket_s,
            settings.buckets,
            max_deployments=settings.max_deployments,
            clock=self._clock.now,
        )
        self._engine = RuleEngine()
        self._sources: dict[str, Source] = {}
        self._gauges: dict[str, dict[str, Measure]] = {}
        self._events: deque[tuple[str, Any]] = deque(maxlen=_MAX_QUEUED_EVENTS)
        self._task: asyncio.Task[None] | None = None
        self.evaluations = 0
        self.last_evaluated_at: datetime | None = None

    @classmethod
    def from_settings(cls, settings: AlertSettings, history: AlertHistory) -> AlertManager:
        """The manager with its notifier (log + the configured webhooks)."""
        notifier = Notifier(
            settings.webhooks,
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
            max_pending=settings.max_pending,
        )
        return cls(settings, history, notifier)

    # -- signals -------------------------------------------------------------------------

    def add_source(self, kind: str, source: Source) -> None:
        """Where rules of ``kind`` read their values (replacing any earlier source). The
        composition root hands each source here once the service it reads is built
        (``bastion/wiring/alert_sources.py``)."""
        self._sources[kind] = source

    def set_gauge(
        self,
        kind: str,
        subject: str,
        value: float,
        *,
        samples: int = 0,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Push the current value of a signal (e.g. accuracy) for one subject; it counts
        until replaced and overrides the kind's pulled source for that subject."""
        self._gauges.setdefault(kind, {})[subject] = Measure(value, samples, details or {})

    def note_budget_events(self, deployment: str, events: Sequence[Any]) -> None:
        """Budget thresholds crossed by a call (the admit stage's ``budget_events``).

        Synchronous and bounded: they are turned into alerts at the next evaluation.
        """
        if any(r.kind == "budget" for r in self.settings.rules):
            self._events.extend(("budget", (deployment, event)) for event in events)

    # -- pushed events ---------------------------------------------------------------------

    async def fire(
        self,
        rule: str,
        *,
        severity: str,
        deployment: str | None,
        summary: str,
        details: dict[str, Any],
        dedupe_key: str,
        expires_at: datetime | None = None,
    ) -> None:
        """Raise an event alert; notifies once while it stays active (until ``resolve`` or
        ``expires_at``)."""
        kind = next((r.kind for r in self.settings.rules if r.name == rule), "event")
        new = NewAlert(
            dedupe_key, rule, kind, severity, summary, deployment, details, "event", expires_at
        )
        created = await self.history.open(new, at=self._wall(), by=self.process)
        if created is not None:
            self.notifier.notify(Notification("firing", created))

    async def resolve(self, dedupe_key: str) -> None:
        """Resolve the active alert of ``dedupe_key`` (if any) and send its resolved notice."""
        closed = await self.history.close(dedupe_key, at=self._wall())
        if closed is not None:
            self.notifier.notify(Notification("resolved", closed))

    # -- evaluation ------------------------------------------------------------------------

    async def evaluate(self) -> None:
        """One round: pushed events, every rule, then resolve what nobody sees any more."""
        now, at = self._clock.now(), self._wall()
        await self._drain_events()
        active = await self.history.active()
        open_keys = frozenset(a.dedupe_key for a in active if a.resolved_at is None)
        seen: set[str] = set()
        failed: set[str] = set()
        for rule in self.settings.rules:
            if rule.kind in EVENT_KINDS:
                continue
            try:
                measures = await self._measure(rule)
            except Exception as exc:  # a broken source must not stop the other rules
                log.warning("alert_rule_failed", rule=rule.name, error=repr(exc))
                failed.add(rule.name)
                continue
            for verdict in self._engine.step(rule, measures, now, open_keys):
                seen.add(verdict.key)
                await self._hold(verdict, at)
        self._engine.forget({r.name for r in self.settings.rules})
        await self._sweep(at, active, seen, failed)
        self.evaluations += 1
        self.last_evaluated_at = at

    async def resume(self) -> None:
        """At start: carry on the episodes that were open (marked seen now, so that this
        process has a whole ``resolve_after_s`` to see their condition again) instead of
        resolving them; they do not fire again."""
        at = self._wall()
        for alert in await self.history.active():
            if alert.source == "rule":
                await self.history.touch(alert.dedupe_key, at=at, by=self.process)
                log.info("alert_resumed", alert=alert.id, rule=alert.rule, key=alert.dedupe_key)

    async def _measure(self, rule: AlertRuleSettings) -> dict[str, Measure]:
        if rule.kind in REQUEST_KINDS:
            return measure_requests(rule, self.recorder)
        source = self._sources.get(rule.kind)
        measures = dict(await source(rule)) if source is not None else {}
        measures.update(self._gauges.get(rule.kind, {}))
        if rule.deployments is not None:
            measures = {s: m for s, m in measures.items() if s in rule.deployments}
        return measures

    async def _hold(self, verdict: Verdict, at: datetime) -> None:
        if verdict.phase == "pending":  # not firing here yet: keep another process's alive
            await self.history.touch(verdict.key, at=at, by=self.process)
            return
        rule = verdict.rule
        details = {**verdict.measure.details, "value": verdict.measure.value}
        details["threshold"] = rule.threshold
        if rule.runbook_url:
            details["runbook_url"] = rule.runbook_url
        summary = summarize(rule, verdict.subject, verdict.measure)
        new = NewAlert(
            verdict.key, rule.name, rule.kind, rule.severity, summary, verdict.subject, details
        )
        created = await self.history.open(new, at=at, by=self.process)
        if created is not None:
            self.notifier.notify(Notification("firing", created))

    async def _sweep(
        self, at: datetime, active: list[Alert], seen: set[str], failed: set[str]
    ) -> None:
        """Resolve rule alerts whose condition no process has seen hold for
        ``resolve_after_s``, and event alerts past their expiry. The conditional update
        picks one resolver."""
        unseen_since = at - timedelta(seconds=self.settings.resolve_grace_s)
        for alert in active:
            if alert.source == "rule":
                if alert.dedupe_key in seen or alert.rule in failed:
                    continue
                closed = await self.history.close(
                    alert.dedupe_key, at=at, unseen_since=unseen_since
                )
            elif alert.expires_at is not None and alert.expires_at <= at:
                closed = await self.history.close(alert.dedupe_key, at=at)
            else:
                continue
            if closed is not None:
                self.notifier.notify(Notification("resolved", closed))

    async def _drain_events(self) -> None:
        while self._events:
            _, (deployment, event) = self._events.popleft()
            for rule, new in budget_alerts(self.settings.rules, deployment, event):
                await self.fire(
                    rule.name,
                    severity=new.severity,
                    deployment=new.deployment,
                    summary=new.summary,
                    details=new.details,
                    dedupe_key=new.dedupe_key,
                    expires_at=new.expires_at,
                )

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Resume the open episodes, then evaluate every ``interval_s`` until cancelled; a
        failed round is logged, not fatal."""
        try:
            await self.resume()
        except Exception as exc:  # the database may be briefly unreachable at start
            log.warning("alert_resume_failed", error=repr(exc))
        while True:
            try:
                await self.evaluate()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. the database is briefly unreachable
                log.warning("alert_evaluation_failed", error=repr(exc))
            await self._clock.sleep(self.settings.interval_s)

    def start(self) -> None:
        """Start the evaluation loop (once, inside the running event loop)."""
        if self._task is None and self.settings.enabled:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop evaluating and let notifications in flight finish (up to ``timeout_s``)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.notifier.aclose(timeout_s)

    # -- reading -------------------------------------------------------------------------

    async def active(self) -> list[Alert]:
        return await self.history.active()

    async def list(
        self,
        *,
        state: State | None = None,
        deployment: str | None = None,
        rule: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Alert]:
        return await self.history.history(
            state=state, deployment=deployment, rule=rule, limit=limit, before_id=before_id
        )

    async def get(self, alert_id: int) -> Alert | None:
        return await self.history.get(alert_id)

    async def ack(self, alert_id: int, actor: str) -> Alert | None:
        return await self.history.ack(alert_id, actor=actor, at=self._wall())

    def status(self) -> dict[str, Any]:
        """This process's rules and what it measured for each at its last evaluation."""
        return {
            "process": self.process,
            "evaluations": self.evaluations,
            "last_evaluated_at": self.last_evaluated_at.isoformat()
            if self.last_evaluated_at
            else None,
            "interval_s": self.settings.interval_s,
            "sources": sorted({*self._sources, *self._gauges}),
            "rules": [
                {**rule.model_dump(mode="json"), "subjects": self._engine.snapshot(rule)}
                for rule in self.settings.rules
            ],
        }
