"""The act stage: on the way out, finds the actions a decision sets off and makes them
durable with it.

For each prediction and each action of the deployment whose condition holds, one intent
(status ``pending``) — or, for a prediction the decide stage sent to a human, one ``held``
intent per action, whose condition is checked on the reviewer's output. The intents ride the
call's audit record (``Call.outbox``, inserted in the audit log's group commit, before the
answer leaves); without an audit log the stage commits them itself before returning.
Streams set off no actions.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bastion.actions.compiled import Catalog
from bastion.actions.events import EventBus
from bastion.actions.writer import OutboxWriter
from bastion.store.actions_tables import OutboxIntent
from bastion.store.tables import utcnow

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


def new_action_id() -> str:
    return "act_" + secrets.token_hex(10)


class ActStage:
    def __init__(
        self,
        catalog: Catalog,
        writer: OutboxWriter | None,
        *,
        notify: Callable[[], None] | None = None,
        events: EventBus | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._catalog = catalog
        self._events = events if events is not None and events.wants("decision") else None
        self._writer = writer  # None: the audit stage commits call.outbox with its record
        self._notify = notify
        self._clock = clock

    async def __call__(self, call: Call, next: Next) -> Result:
        result = await next(call)
        if result.stream is not None or not result.predictions:
            return result
        if self._events is not None:
            self._decisions(call, result, self._events)
        actions = self._catalog.of(call.deployment)
        if actions is None:
            return result
        intents = self.intents(call, result)
        if intents:
            call.outbox = tuple(intents)
            if self._writer is not None:
                await self._writer.write(intents)
            if self._notify is not None:
                self._notify()  # committed by then or shortly (with the audit record)
        return result

    def _decisions(self, call: Call, result: Result, events: EventBus) -> None:
        for i, p in enumerate(result.predictions):
            decision_id = f"{call.request_id}:{i}"
            data = {
                "decision_id": decision_id,
                "request_id": call.request_id,
                "deployment": call.deployment,
                "version": result.version,
                "output": p.output,
                "confidence": p.confidence,
                "reviewed": i in call.reviewed,
                "tenant": getattr(call.principal, "tenant", None),
            }
            source = f"/bastion/deployments/{call.deployment}"
            events.emit(
                "decision",
                data,
                subject=decision_id,
                event_id=f"decision-{decision_id}",
                source=source,
            )

    def intents(self, call: Call, result: Result) -> list[OutboxIntent]:
        actions = self._catalog.of(call.deployment) or ()
        tenant = getattr(call.principal, "tenant", None)
        now = self._clock()
        rid = call.request_id
        out = []
        for i, p in enumerate(result.predictions):
            held = i in call.reviewed
            ctx: dict[str, Any] = {
                "input": call.inputs[i] if i < len(call.inputs) else None,
                "output": p.output,
                "confidence": p.confidence,
                "version": result.version,
                "deployment": call.deployment,
            }
            for action in actions:
                if not held and not action.condition(ctx):
                    continue
                out.append(
                    OutboxIntent(
                        id=new_action_id(),
                        tenant=tenant,
                        deployment=call.deployment,
                        action=action.name,
                        decision_id=f"{rid}:{i}",
                        request_id=rid,
                        status="held" if held else "pending",
                        context=ctx,
                        at=now,
                    )
                )
        return out
