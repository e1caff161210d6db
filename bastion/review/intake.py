"""Getting predictions into the queue (from the request path or the prediction log), and
waiting for their decisions in hold mode."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bastion.errors import NotFound
from bastion.review.entities import FINAL_STATUSES, ReviewItem, Worker
from bastion.review.escalation import ModelEscalation
from bastion.store.review_tables import ReviewItemRow

if TYPE_CHECKING:
    from bastion.backends.base import Prediction
    from bastion.pipeline import Call, Result
    from bastion.review.policy import ReviewPolicy
    from bastion.review.service import ReviewService


@dataclass(frozen=True, slots=True)
class Candidate:
    """One prediction the policy sends to a human, and any stronger model's answer to it."""

    index: int
    prediction: Prediction
    triggers: tuple[str, ...]
    escalation: dict[str, Any] | None = None


def new_id() -> str:
    return "rev_" + secrets.token_hex(12)


class Intake:
    """Writes review items and wakes whoever holds a request open for their decision."""

    def __init__(self, service: ReviewService, escalation: ModelEscalation) -> None:
        self._service = service
        self.escalation = escalation
        self._waiters: dict[str, asyncio.Event] = {}

    async def submit(
        self, call: Call, result: Result, policy: ReviewPolicy, candidates: Sequence[Candidate]
    ) -> list[ReviewItem]:
        """Queue the candidates of one call in one transaction."""
        svc = self._service
        now = svc.queue.now()
        principal = call.principal
        tenant = getattr(principal, "tenant", "default")
        requester = getattr(principal, "name", "anonymous")
        rows = []
        for c in candidates:
            item_id = new_id()
            payload = {
                "input": call.inputs[c.index],
                "model_output": c.prediction.output,
                "escalation": c.escalation,
            }
            rows.append(
                ReviewItemRow(
                    id=item_id,
                    request_id=call.request_id,
                    item_index=c.index,
                    deployment=call.deployment,
                    model=result.model,
                    version=result.version,
                    tenant=tenant,
                    requested_by=requester,
                    source="review",
                    triggers=list(c.triggers),
                    priority=policy.priority(c.triggers),
                    tier=1,
                    tier2_role=policy.settings.second_tier_role,
                    status="pending",
                    confidence=c.prediction.confidence,
                    encrypted=svc.codec.encrypts,
                    payload=svc.codec.seal(item_id, payload),
                    created_at=now,
                    sla_due_at=now + timedelta(seconds=policy.settings.sla_s),
                    reason="",
                )
            )
        await svc.queue.add(rows, requester)
        return [ReviewItem.of(r) for r in rows]

    async def from_log(self, request_id: str, index: int, worker: Worker) -> ReviewItem:
        """An item for a past prediction that was never queued, read from the prediction log."""
        svc = self._service
        logged = await svc.hooks.logged_prediction(
            request_id, worker.tenant if not worker.admin else None
        )
        if logged is None or not 0 <= index < len(logged.outputs):
            raise NotFound(
                f"no prediction {index} of request {request_id} in the review queue or the "
                "prediction log of your tenant; check the request id (the response's 'id')"
            )
        item_id, now = new_id(), svc.queue.now()
        confidences = list(logged.confidences or [])
        payload = {
            "input": logged.inputs[index] if index < len(logged.inputs) else None,
            "model_output": logged.outputs[index],
            "escalation": None,
        }
        row = ReviewItemRow(
            id=item_id,
            request_id=request_id,
            item_index=index,
            deployment=logged.deployment,
            model=logged.model,
            version=logged.version,
            tenant=logged.tenant,
            requested_by="prediction-log",
            source="override",
            triggers=[],
            priority=0,
            tier=1,
            tier2_role="approver",
            status="logged",
            confidence=confidences[index] if index < len(confidences) else None,
            encrypted=svc.codec.encrypts,
            payload=svc.codec.seal(item_id, payload),
            created_at=logged.at,
            sla_due_at=now,
            reason="",
        )
        await svc.queue.add([row], worker.name, action="logged")
        return ReviewItem.of(row)

    def decided(self, item_id: str) -> None:
        """Wake a request held open in this process for ``item_id``."""
        event = self._waiters.get(item_id)
        if event is not None:
            event.set()

    async def wait(self, ids: Sequence[str], timeout_s: float) -> dict[str, ReviewItem]:
        """Hold mode: the items decided within ``timeout_s`` (in this process: woken at once;
        elsewhere: seen by polling the database every ``hold_poll_interval_s``)."""
        svc = self._service
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        for item_id in ids:
            self._waiters[item_id] = event
        deadline = loop.time() + timeout_s
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining > 0:
                    poll = min(remaining, svc.settings.hold_poll_interval_s)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), poll)
                    event.clear()
                statuses = await svc.queue.statuses(ids)
                done = [i for i in ids if statuses.get(i) in FINAL_STATUSES]
                if len(done) == len(ids) or remaining <= 0:
                    return await self._items(done)
        finally:
            for item_id in ids:
                self._waiters.pop(item_id, None)

    async def _items(self, ids: Sequence[str]) -> dict[str, ReviewItem]:
        out = {}
        for item_id in ids:
            item = await self._service.queue.get(item_id)
            if item is not None:
                out[item_id] = item
        return out
