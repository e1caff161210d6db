"""Costs API: usage and spend by key/team/tenant/deployment/model/day, and live budgets."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.api.known import require_known
from bastion.api.render import json_response
from bastion.errors import InvalidRequest, NotFound
from bastion.governance.budget.base import BucketUsage
from bastion.governance.costs import CostFilter, cost_report, parse_dimensions, total_cost
from bastion.governance.subject import Subject
from bastion.security import Principal, require_deployment, tenant_scope
from bastion.services import Services

router = APIRouter(prefix="/v1/costs", tags=["costs"])


async def _caller(request: Request) -> tuple[Services, Principal]:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    return svc, principal


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(
            f"{field}: expected a date like 2025-06-01, got {value!r}", details={"field": field}
        ) from exc


def _filter(principal: Principal, where: CostFilter) -> CostFilter:
    """Admins see what they ask for; operators their tenant; other keys only themselves."""
    tenant = tenant_scope(principal, where.tenant)
    if principal.has_any("operator"):
        return CostFilter(where.since, where.until, tenant, where.team, where.key_id)
    if where.key_id not in (None, principal.key_id):
        raise NotFound(f"no costs of key '{where.key_id}' visible to this key")
    return CostFilter(where.since, where.until, tenant, where.team, principal.key_id)


@router.get("")
async def costs(
    request: Request,
    by: list[str] = Query(default=["tenant", "day"]),
    since: str | None = None,
    until: str | None = None,
    tenant: str | None = None,
    team: str | None = None,
    key: str | None = None,
) -> Response:
    """Requests, tokens and USD grouped by ``by`` (key, team, tenant, deployment, model,
    prompt, day; repeat or comma-separate), over UTC days ``since``..``until`` (inclusive)."""
    svc, principal = await _caller(request)
    dims = parse_dimensions([part for b in by for part in b.split(",") if part])
    asked = CostFilter(_day(since, "since"), _day(until, "until"), tenant, team, key)
    rows = await cost_report(svc.db, dims, _filter(principal, asked))
    return json_response({"by": dims, "data": rows, "total_usd": total_cost(rows)})


@router.get("/budgets")
async def budgets(
    request: Request,
    deployment: str | None = None,
    key: str | None = None,
    tenant: str | None = None,
    team: str | None = None,
) -> Response:
    """The current window of every budget that applies to a caller (an admin may name any
    key, team, tenant and deployment): limits, spent and reserved."""
    svc, principal = await _caller(request)
    if principal.is_admin:
        subject = Subject(key or principal.key_id, tenant or principal.tenant, team, "")
    else:
        if key not in (None, principal.key_id) or team not in (None, principal.team):
            raise NotFound("no such budget visible to this key")
        tenant_scope(principal, tenant)
        subject = Subject(principal.key_id, principal.tenant, principal.team, "")
    if deployment is not None:
        require_deployment(principal, deployment)
        await require_known(svc, deployment, principal)
        subject = Subject(subject.key_id, subject.tenant, subject.team, deployment)
    usage = await svc.governance.budget_usage(subject)
    return json_response({"data": [_budget(u) for u in usage]})


def _budget(usage: BucketUsage) -> dict[str, Any]:
    bucket = usage.bucket
    micros, requests, tokens = bucket.limits
    return {
        "scope": bucket.scope,
        "subject": bucket.subject,
        "window": bucket.window,
        "window_id": bucket.window_id,
        "limit_usd": None if micros is None else micros / 1_000_000,
        "limit_requests": requests,
        "limit_tokens": tokens,
        "spent_usd": usage.spent.usd,
        "spent_requests": usage.spent.requests,
        "spent_tokens": usage.spent.tokens,
        "reserved_usd": usage.reserved.usd,
        "reserved_requests": usage.reserved.requests,
    }
