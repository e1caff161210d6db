"""The dispatcher: in every server process, claims due actions and delivers them.

At least once: an action is claimed under a lease, each attempt carries the same idempotency
key (decision id + action + step), and its new state is written only after the attempt; a
crash in between makes the lease expire and the action is delivered again with that key.
Per destination a circuit breaker (an open one postpones actions without spending their
attempts) and a concurrency limit. Every attempt is written to the outbox's attempt table,
to the audit log (kind ``action``) and to metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from bastion.actions.base import Destination, Outcome
from bastion.actions.compiled import Catalog, CompiledAction
from bastion.actions.machine import Backoff, State, Transition, advance
from bastion.actions.metrics import ActionMetrics
from bastion.actions.outbox import Attempt, Claimed, OutboxStore
from bastion.resilience import CircuitBreaker
from bastion.settings.actions import ActionsSettings
from bastion.store.tables import utcnow

log = structlog.get_logger(__name__)

Report = Callable[[Claimed, Attempt, str], Any]


class Dispatcher:
    def __init__(
        self,
        store: OutboxStore,
        catalog: Catalog,
        destinations: Mapping[str, Destination],
        settings: ActionsSettings,
        *,
        worker: str,
        metrics: ActionMetrics | None = None,
        report: Report | None = None,
        rng: Callable[[], float] = random.random,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.destinations = destinations
        self.settings = settings.dispatcher
        self.worker = worker
        self.metrics = metrics
        self.report = report
        self.now = now
        self._backoff = Backoff(settings.dispatcher, rng)
        self._breakers = {
            name: CircuitBreaker(
                f"action:{name}",
                failure_rate_threshold=d.breaker.failure_rate,
                min_calls=d.breaker.min_calls,
                open_s=d.breaker.open_s,
            )
            for name, d in settings.destinations.items()
        }
        self._limits = {
            name: asyncio.Semaphore(d.max_concurrency) for name, d in settings.destinations.items()
        }
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something became due (a new intent, a release, a retry): look now."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and deliver until cancelled."""
        while True:
            try:
                claimed = await self.run_once()
            except Exception:  # a background loop: log, wait, go on
                log.exception("action_dispatch_failed", worker=self.worker)
                claimed = 0
            if claimed < self.settings.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_interval_s):
                        await self._wake.wait()

    async def run_once(self) -> int:
        """One claim: every claimed action goes as far as it can now. Returns how many."""
        lease_s = self.settings.lease_s
        claimed = await self.store.claim(self.worker, self.settings.batch, lease_s, self.now())
        rows = claimed
        while rows:
            results = await asyncio.gather(*(self._attempt(r) for r in rows))
            changes = [(r, t) for r, (t, _) in zip(rows, results, strict=True)]
            attempts = [a for _, a in results if a is not None]
            await self.store.apply(self.worker, changes, attempts, lease_s, self.now())
            if self.report is not None:
                await asyncio.gather(
                    *(
                        self.report(r, a, t.state.status)
                        for r, (t, a) in zip(rows, results, strict=True)
                        if a is not None
                    ),
                    return_exceptions=True,
                )
            rows = [
                dataclasses.replace(r, state=t.state, details={**r.details, **t.details})
                for r, t in changes
                if t.again_now
            ]
        return len(claimed)

    async def _attempt(self, row: Claimed) -> tuple[Transition, Attempt | None]:
        now = self.now()
        action = self.catalog.find(row.deployment, row.action)
        if action is None:
            error = f"action {row.deployment}/{row.action} is no longer configured"
            return Transition(State("dead", row.state.step, row.state.attempts), now, error), None
        compensating = row.state.status == "compensating"
        step = action.steps[row.state.step]
        call = step.compensate if compensating else step.call
        if call is None:  # nothing to undo for this step: move on to the one before
            return advance(action, row.state, Outcome("ok"), now, self._backoff), None
        breaker = self._breakers[call.destination]
        key = f"{row.decision_id}:{row.action}:{step.name}" + (
            ":compensate" if compensating else ""
        )
        reread = bool(row.details.get("reread"))
        async with self._limits[call.destination]:  # the breaker is asked once a slot is free
            if not breaker.allow():
                wait = breaker.retry_after() or self.settings.poll_interval_s
                later = self.now() + timedelta(seconds=wait)
                return Transition(row.state, later, f"circuit open for {call.destination}"), None
            started = time.perf_counter()
            outcome = await self.destinations[call.destination].send(
                call, row.ctx(), key, reread=reread
            )
        latency = time.perf_counter() - started
        if outcome.verdict == "retry":
            breaker.record_failure()
        else:
            breaker.record_success()
        transition = advance(action, row.state, outcome, self.now(), self._backoff)
        attempt = self._attempt_record(row, action, outcome, latency, now, compensating)
        if self.metrics is not None:
            self.metrics.attempts.labels(call.destination, outcome.verdict).inc()
            self.metrics.latency.labels(call.destination).observe(latency)
        return transition, attempt

    def _attempt_record(
        self,
        row: Claimed,
        action: CompiledAction,
        outcome: Outcome,
        latency: float,
        at: datetime,
        compensating: bool,
    ) -> Attempt:
        return Attempt(
            action_id=row.id,
            step=row.state.step,
            step_name=action.steps[row.state.step].name,
            phase="compensate" if compensating else "forward",
            attempt=row.state.attempts + 1,
            at=at,
            outcome=outcome.verdict,
            status_code=outcome.status_code,
            latency_ms=round(latency * 1000, 3),
            error=outcome.error,
            worker=self.worker,
        )
