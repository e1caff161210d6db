"""Drills `bastion check` asks the server to run: a real rollback and back, a test notification.

The rollback drill changes what is served for a moment, on purpose: it proves that a
rollback works end to end (alias moved, previous version loaded and answering) instead of
assuming it. Both moves are ordinary alias changes, recorded in the alias history and the
audit log; the alias ends where it started.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bastion.errors import Conflict, NotFound
from bastion.observability.alerts import Alert, Notification
from bastion.readiness.facts import previous_version

if TYPE_CHECKING:
    from bastion.security import Principal
    from bastion.services import Services

DRILL = "readiness drill"


def _served(svc: Services, model: str, alias: str) -> list[int | None]:
    return [
        d.current.version if d.current is not None else None
        for d in svc.deployments.all()
        if d.settings.model_name == model and d.settings.alias == alias
    ]


async def rollback_drill(svc: Services, actor: Principal, model: str, alias: str) -> dict[str, Any]:
    """Roll ``alias`` back one version, check what is served, move it forward again."""
    aliases = await svc.registry.aliases(model)
    current = aliases.get(alias)
    if current is None:
        raise NotFound(f"model '{model}' has no alias '{alias}'; promote a version first")
    previous = await previous_version(svc, model, alias)
    if previous is None:
        raise Conflict(
            f"alias '{alias}' of '{model}' has held only version {current}; a rollback drill "
            "needs an earlier version (promote a second one first)"
        )
    started = time.perf_counter()
    await svc.registry.rollback(model, alias=alias, actor=actor.name, reason=f"{DRILL}: back")
    try:
        await svc.deployments.refresh()
        during = _served(svc, model, alias)
    finally:  # whatever happened, the alias goes back where it was
        await svc.registry.set_alias(
            model, alias, current, actor=actor.name, reason=f"{DRILL}: forward", action="promote"
        )
        await svc.deployments.refresh()
    after = _served(svc, model, alias)
    result = {
        "model": model,
        "alias": alias,
        "from_version": current,
        "to_version": previous,
        "restored_version": current,
        "served_during": during,
        "served_after": after,
        "switched": all(v == previous for v in during),
        "restored": all(v == current for v in after),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if svc.audit is not None:
        await svc.audit.admin(actor, "model.rollback_drilled", model, result)
    return result


async def test_notification(
    svc: Services, actor: Principal, webhook: str | None = None
) -> list[dict[str, Any]]:
    """Post one test notification to every webhook (or the one named), whatever its
    min_severity; wait for each delivery."""
    manager = svc.alerts
    hooks = [h for h in manager.notifier.webhooks if webhook in (None, h.name)]
    if webhook is not None and not hooks:
        known = ", ".join(h.name for h in manager.notifier.webhooks) or "none configured"
        raise NotFound(f"no webhook {webhook!r} in alerts.webhooks ({known})")
    now = datetime.now(UTC)
    alert = Alert(
        id=0,
        dedupe_key="bastion-check:test",
        rule="bastion-check",
        kind="test",
        source="event",
        deployment=None,
        severity="info",
        summary=f"Test notification from `bastion check` (by {actor.name}); no action needed",
        details={"test": True},
        fired_at=now,
        last_seen_at=now,
        last_seen_by="bastion-check",
    )
    note = Notification("firing", alert)
    delivered = await asyncio.gather(*(manager.notifier.deliver(h, note) for h in hooks))
    return [{"webhook": h.name, "delivered": ok} for h, ok in zip(hooks, delivered, strict=True)]
