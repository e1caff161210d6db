"""ActionsService: the action layer of one server process, built by the composition root.

Holds the compiled catalog, the outbox, the destinations and the dispatcher; gives the
pipeline its act stage; releases held actions when a reviewer decides; answers the admin API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from datetime import datetime
from typing import Any

import structlog

from bastion.actions.compiled import Catalog
from bastion.actions.destinations import build_destination
from bastion.actions.dispatcher import Dispatcher
from bastion.actions.events import EventBus
from bastion.actions.intake import NatsIntake
from bastion.actions.metrics import ActionMetrics
from bastion.actions.outbox import Attempt, Claimed, OutboxStore
from bastion.actions.reconcile import run_sweeps
from bastion.actions.stage import ActStage
from bastion.actions.tail import Tailer
from bastion.actions.views import action_view, attempt_view
from bastion.actions.writer import OutboxWriter
from bastion.observability.audit.record import AuditEntry
from bastion.settings.actions import ActionsSettings
from bastion.store import Database
from bastion.store.tables import utcnow

log = structlog.get_logger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class ActionsService:
    def __init__(
        self,
        settings: ActionsSettings,
        db: Database,
        *,
        audit: Any = None,
        metrics_registry: Any = None,
    ) -> None:
        self.settings = settings
        self.catalog = Catalog(settings)  # a bad condition or template fails the start
        self.store = OutboxStore(db)
        self.audit = audit
        self.metrics = ActionMetrics(metrics_registry)
        self.worker = worker_id()
        self.destinations = {
            name: build_destination(name, d) for name, d in settings.destinations.items()
        }
        self.writer = None if audit is not None else OutboxWriter(self.store)
        self.events = EventBus([(s, self.destinations[s.destination]) for s in settings.events])
        self._tailer = Tailer(db, self.events)
        self.dispatcher = Dispatcher(
            self.store,
            self.catalog,
            self.destinations,
            settings,
            worker=self.worker,
            metrics=self.metrics,
            report=self._report,
        )
        self._task: asyncio.Task[None] | None = None
        self._gauges: asyncio.Task[None] | None = None
        self._tail: asyncio.Task[None] | None = None
        self._intakes: list[NatsIntake] = []
        self._background: list[asyncio.Task[None]] = []

    def stage(self) -> ActStage | None:
        """The act stage (None when no deployment declares actions)."""
        if not self.settings.enabled and not self.events.wants("decision"):
            return None
        return ActStage(self.catalog, self.writer, notify=self._soon, events=self.events)

    def _soon(self) -> None:
        asyncio.get_running_loop().call_later(0.002, self.dispatcher.wake)

    async def start(self, pipeline: Any = None, review: Any = None) -> None:
        """Destinations, the dispatcher, events; with ``pipeline``, the NATS intakes; with
        ``review``, the sweep that releases held actions a crash left behind."""
        for dest in self.destinations.values():
            try:
                await dest.start()
            except Exception as exc:  # reachable later: the dispatcher retries
                log.warning("action_destination_unavailable", destination=dest.name, error=str(exc))
        if self.settings.dispatcher.enabled:
            self._task = asyncio.get_running_loop().create_task(self.dispatcher.run())
        self._gauges = asyncio.get_running_loop().create_task(self._publish_gauges())
        self.events.start()
        if review is not None and self.settings.enabled:
            sweeps = run_sweeps(self.store.db, review, self.review_decided, 10.0)
            self._background.append(asyncio.get_running_loop().create_task(sweeps))
        if pipeline is not None:
            for cfg in self.settings.intake:
                intake = NatsIntake(cfg, pipeline, self.metrics)
                self._intakes.append(intake)
                self._background.append(asyncio.get_running_loop().create_task(intake.run()))
        if self.events.wants("alias") or self.events.wants("alert"):
            self._tail = asyncio.get_running_loop().create_task(self._tailer.run())

    async def aclose(self) -> None:
        for task in (*self._background, self._task, self._gauges, self._tail):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.writer is not None:
            await self.writer.aclose()
        await self.events.aclose()
        for dest in self.destinations.values():
            await dest.aclose()

    async def _publish_gauges(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                counts = await self.store.counts()
                for status in ("held", "pending", "compensating", "conflict", "dead", "done"):
                    self.metrics.backlog.labels(status).set(counts.get(status, 0))
                self.metrics.oldest_due_s.set(await self.store.oldest_due(utcnow()))
            await asyncio.sleep(5.0)

    async def _report(self, row: Claimed, attempt: Attempt, status: str) -> None:
        """One audit record per attempt (kind ``action``); an event when the action ends."""
        if status in ("done", "dead", "compensated", "conflict"):
            data = {
                "action_id": row.id,
                "decision_id": row.decision_id,
                "deployment": row.deployment,
                "action": row.action,
                "status": status,
                "tenant": row.tenant,
                "last_step": attempt.step_name,
                "error": attempt.error,
            }
            self.events.emit("action", data, subject=row.id, event_id=f"action-{row.id}-{status}")
        if self.audit is None:
            return
        await self.audit.append(
            AuditEntry(
                kind="action",
                action="action.attempt",
                at=attempt.at,
                actor_name=f"dispatcher {self.worker}",
                tenant=row.tenant,
                deployment=row.deployment,
                request_id=row.request_id,
                status=attempt.outcome,
                error_type=None if attempt.outcome == "ok" else attempt.outcome,
                target=f"{row.action}/{attempt.step_name}",
                details={
                    "action_id": row.id,
                    "decision_id": row.decision_id,
                    "phase": attempt.phase,
                    "attempt": attempt.attempt,
                    "status_code": attempt.status_code,
                    "latency_ms": attempt.latency_ms,
                    "action_status": status,
                },
            )
        )

    # -- review --------------------------------------------------------------------------

    async def review_decided(self, item: Any, status: str, final_output: Any) -> None:
        """A reviewer decided ``item``: its held actions run with the final output (approved,
        corrected, overridden) or are dropped (rejected). Conditions see the final output with
        confidence 1.0: a human's decision is the confident one the action waited for."""
        data = {
            "review_id": item.id,
            "request_id": item.request_id,
            "index": item.index,
            "deployment": item.deployment,
            "status": status,
            "output": final_output,
            "tenant": item.tenant,
        }
        self.events.emit("review", data, subject=item.id, event_id=f"review-{item.id}-{status}")
        if status not in ("approved", "corrected", "overridden", "rejected"):
            return
        approved = status != "rejected"
        decision_id = f"{item.request_id}:{item.index}"
        held = await self.store.release(
            item.tenant, decision_id, final_output, approved=approved, now=utcnow()
        )
        for row in held:
            action = self.catalog.find(row.deployment, row.action)
            ctx = {**row.context, "output": final_output, "confidence": 1.0}
            if approved and (action is None or not action.condition(ctx)):
                await self.store.mark(
                    row.id, "skipped", "condition false for the reviewed output", utcnow()
                )
        if held:
            self.dispatcher.wake()
            log.info("actions_released", decision=decision_id, actions=len(held), status=status)

    # -- admin -----------------------------------------------------------------------------

    async def list(
        self,
        principal: Any,
        *,
        status: str | None,
        deployment: str | None,
        tenant: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        admin = bool(getattr(principal, "is_admin", False))
        rows = await self.store.browse(
            tenant if admin and tenant else principal.tenant,
            all_tenants=admin and tenant is None,
            status=status,
            deployment=deployment,
            limit=limit,
        )
        return [action_view(r) for r in rows]

    async def show(self, action_id: str, principal: Any) -> dict[str, Any]:
        admin = bool(getattr(principal, "is_admin", False))
        row, attempts = await self.store.get(action_id, principal.tenant, all_tenants=admin)
        action = self.catalog.find(row.deployment, row.action)
        view = action_view(row, context=True)
        view["steps"] = _steps(action, row, attempts)
        return view

    async def operate(self, action_id: str, principal: Any, op: str) -> dict[str, Any]:
        admin = bool(getattr(principal, "is_admin", False))
        now: datetime = utcnow()
        row = await self.store.operate(
            action_id, principal.tenant, all_tenants=admin, op=op, now=now
        )
        if self.audit is not None:
            await self.audit.admin(principal, f"action.{op}", action_id, {"status": row.status})
        if op == "retry":
            self.dispatcher.wake()
        return action_view(row)


def _steps(action: Any, row: Any, attempts: list[Any]) -> list[dict[str, Any]]:
    names = [s.name for s in action.steps] if action is not None else []
    names += sorted({a.step_name for a in attempts} - set(names))
    out = []
    for index, name in enumerate(names):
        mine = [attempt_view(a) for a in attempts if a.step_name == name]
        out.append(
            {"index": index, "name": name, "state": _step_state(row, index, mine), "attempts": mine}
        )
    return out


def _step_state(row: Any, index: int, attempts: list[dict[str, Any]]) -> str:
    forward = [a for a in attempts if a["phase"] == "forward"]
    back = [a for a in attempts if a["phase"] == "compensate"]
    if back and back[-1]["outcome"] == "ok":
        return "compensated"
    if back:
        return "compensation_failed" if row.status == "dead" else "compensating"
    if forward and forward[-1]["outcome"] == "ok":
        return "done"
    if forward:
        live = row.status == "pending" and index == row.step
        return "retrying" if live else ("conflict" if row.status == "conflict" else "failed")
    return "not_started"
