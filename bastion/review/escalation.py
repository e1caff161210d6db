"""Escalation: first to a stronger model (on the request path), then by SLA to a second tier."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from bastion.backends.base import Prediction
from bastion.errors import BastionError, Conflict
from bastion.pipeline.call import Call
from bastion.review.entities import SYSTEM, ReviewItem
from bastion.review.queue import ReviewQueue
from bastion.settings.review import EscalationSettings, ReviewSettings

if TYPE_CHECKING:
    from bastion.gateway import Gateway
    from bastion.routing import DeploymentManager

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Escalated:
    """The stronger model's answers, and which model and version gave them."""

    predictions: list[Prediction]
    model: str
    version: int


class ModelEscalation:
    """Runs inputs on the stronger target a policy names: an LLM group (OpenAI routes), a
    deployment's live version, or a pinned version. Failures mean "ask a human" (None)."""

    def __init__(self, deployments: DeploymentManager, gateway: Gateway | None) -> None:
        self._deployments = deployments
        self._gateway = gateway

    async def ask(self, call: Call, to: EscalationSettings, inputs: list[Any]) -> Escalated | None:
        try:
            target: Any
            if (
                self._gateway is not None
                and call.api.startswith("openai.")
                and to.to in (self._gateway)
            ):
                target = self._gateway.target(to.to)
            elif to.version is not None:
                target = await self._deployments.pinned(to.to, to.version)
            else:
                target = self._deployments.get(to.to).live()
            target.check_inputs(inputs, batched=True)
            sub = Call(
                request_id=call.request_id,
                deployment=to.to,
                api=call.api,
                inputs=inputs,
                batched=True,
                started_at=time.perf_counter(),
                deadline=call.deadline,
                principal=call.principal,
                version=target.version,
                target=target,
                headers=call.headers,
                llm=call.llm,
            )
            result = await target.run(sub)
        except BastionError as exc:
            log.warning("review_escalation_failed", to=to.to, error=exc.message)
            return None
        if len(result.predictions) != len(inputs):
            return None
        return Escalated(list(result.predictions), result.model, result.version)


Hook = Callable[[ReviewItem, str], Awaitable[None]]


class SlaWatcher:
    """Every ``sla_check_interval_s``: first-tier items past their SLA go to the second tier
    (with that deployment's SLA again); second-tier items past it are reported once."""

    def __init__(
        self,
        queue: ReviewQueue,
        settings: ReviewSettings,
        on_change: Hook,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._queue = queue
        self._settings = settings
        self._on_change = on_change
        self._sleep = sleep

    def _sla_s(self, deployment: str) -> float:
        policy = self._settings.policy(deployment)
        return policy.sla_s if policy is not None else 3600.0

    async def sweep(self) -> int:
        """One pass; returns how many items it moved or reported."""
        changed = 0
        for item in await self._queue.overdue(tier=1):
            with contextlib.suppress(Conflict):  # decided or escalated meanwhile
                moved = await self._queue.escalate(
                    item.id,
                    SYSTEM,
                    f"SLA of {self._sla_s(item.deployment):g}s passed",
                    self._sla_s(item.deployment),
                    action="sla_escalated",
                )
                changed += 1
                log.info("review_sla_escalated", item=item.id, deployment=item.deployment)
                await self._on_change(moved, "sla_escalated")
        for item in await self._queue.overdue(tier=2):
            if await self._queue.mark_breached(item.id):
                changed += 1
                log.warning("review_sla_breached", item=item.id, deployment=item.deployment)
                await self._on_change(item, "sla_breached")
        return changed

    async def run(self, after_sweep: Callable[[], Awaitable[None]] | None = None) -> None:
        """Sweep until cancelled; a database hiccup is logged and the next pass tries again."""
        while True:
            try:
                await self.sweep()
                if after_sweep is not None:
                    await after_sweep()
            except Exception:  # the sweeper must outlive a database hiccup, like the watcher
                log.exception("review_sla_sweep_failed")
            await self._sleep(self._settings.sla_check_interval_s)
