"""Alerts API: active alerts and their history, this process's rule states, acknowledgement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.api.params import MAX_INT64, PathId
from bastion.api.render import json_response
from bastion.errors import Conflict, Forbidden, NotFound
from bastion.observability.alerts import Alert, AlertManager
from bastion.security import Principal

router = APIRouter(prefix="/v1/admin/alerts", tags=["alerts"])


def visible(
    principal: Principal, alert: Alert, owner_of: Callable[[str], str | None] | None = None
) -> bool:
    """Admins see every alert; an operator those of deployments it may use and its tenant
    sees (``owner_of``: a deployment's owning tenant), of budgets only its own tenant's (a
    budget alert names its subject); alerts on failed authentications are admins' only."""
    if principal.is_admin:
        return True
    if alert.rule == "auth_failures":
        return False
    if alert.deployment is not None and not principal.can_use(alert.deployment):
        return False
    if alert.deployment is not None and owner_of is not None:
        owner = owner_of(alert.deployment)
        if owner is not None and not principal.sees_tenant(owner):
            return False
    if alert.kind == "budget":
        scope, subject = alert.details.get("scope"), alert.details.get("subject")
        return scope == "tenant" and subject == principal.tenant
    return True


async def _alerts(request: Request) -> tuple[AlertManager, Principal, Any]:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    if not principal.has_any("operator"):
        raise Forbidden("this route needs one of the roles: admin, operator")
    return svc.alerts, principal, svc


@router.get("")
async def list_alerts(
    request: Request,
    state: Literal["firing", "resolved"] | None = None,
    deployment: str | None = None,
    rule: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    before: int | None = Query(
        None, ge=1, le=MAX_INT64, description="page: alerts with a smaller id"
    ),
) -> Response:
    """Every active alert, and the history (newest first, filtered, paged by ``before``)."""
    manager, principal, svc = await _alerts(request)
    history = await manager.list(
        state=state, deployment=deployment, rule=rule, limit=limit, before_id=before
    )
    owner_of = svc.deployments.owner
    active = [a for a in await manager.active() if visible(principal, a, owner_of)]
    return json_response(
        {
            "active": [a.to_dict() for a in active],
            "data": [a.to_dict() for a in history if visible(principal, a, owner_of)],
            "next_before": history[-1].id if len(history) == limit else None,
        }
    )


@router.get("/rules")
async def rule_states(request: Request) -> Response:
    """The configured rules and what the answering process measured at its last round
    (each process evaluates its own traffic; see docs/alerts.md)."""
    manager, principal, svc = await _alerts(request)
    status = manager.status()
    if not principal.is_admin:
        for rule in status["rules"]:
            rule["subjects"] = [
                s
                for s in rule["subjects"]
                if principal.can_use(s["subject"])
                and svc.ownership.visible(principal, svc.deployments.owner(s["subject"]))
            ]
    return json_response(status)


@router.get("/{alert_id}")
async def show_alert(alert_id: PathId, request: Request) -> Response:
    manager, principal, svc = await _alerts(request)
    alert = await manager.get(alert_id)
    if alert is None or not visible(principal, alert, svc.deployments.owner):
        raise NotFound(f"no alert {alert_id}; list them with GET /v1/admin/alerts")
    return json_response(alert.to_dict())


@router.post("/{alert_id}/ack")
async def ack_alert(alert_id: PathId, request: Request) -> Response:
    """Acknowledge a firing alert: someone is on it (recorded with who and when)."""
    manager, principal, svc = await _alerts(request)
    found = await manager.get(alert_id)
    if found is None or not visible(principal, found, svc.deployments.owner):
        raise NotFound(f"no alert {alert_id}; list them with GET /v1/admin/alerts")
    alert = await manager.ack(alert_id, principal.name)
    if alert is None:
        raise Conflict(f"alert {alert_id} is already resolved; only firing alerts are acknowledged")
    audit = svc.audit
    if audit is not None:
        details = {"rule": alert.rule, "dedupe_key": alert.dedupe_key}
        await audit.admin(principal, "alert.acknowledged", f"alert:{alert_id}", details)
    return json_response(alert.to_dict())
