"""Feedback API: late labels for logged predictions; accuracy and drift for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bastion.api.context import services
from bastion.api.known import require_known
from bastion.api.owned import deployment_owner
from bastion.api.params import MAX_INT64, QueryId
from bastion.api.render import json_response
from bastion.errors import Forbidden, InvalidRequest, NotFound
from bastion.monitoring.service import MonitoringService
from bastion.security import Principal

router = APIRouter(tags=["monitoring"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackBody(_Body):
    request_id: str = Field(min_length=1, max_length=100, description="the prediction's id")
    index: int = Field(
        0, ge=0, le=MAX_INT64, description="which input of a batch (0 for a single input)"
    )
    label: Any = Field(None, description="the true answer: a class label, or a number")
    score: float | None = Field(None, description="how good the answer was, e.g. 0..1")


class BaselineBody(_Body):
    version: int | None = Field(
        None, ge=1, le=MAX_INT64, description="default: the version served now"
    )
    since: datetime | None = Field(None, description="freeze predictions logged since then")
    rows: int | None = Field(
        None, ge=10, le=MAX_INT64, description="instead: collect the next N live rows"
    )


async def _monitoring(request: Request) -> tuple[MonitoringService, Principal]:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    monitoring = svc.monitoring
    if monitoring is None:
        raise NotFound("monitoring is off on this server (monitoring.enabled: false)")
    return monitoring, principal


async def _operator(
    request: Request, name: str, *, change: bool = False
) -> tuple[MonitoringService, Principal]:
    """Monitoring and the caller, an operator who may see (``change``: manage) deployment
    ``name`` (another tenant's answers 404)."""
    monitoring, principal = await _monitoring(request)
    if not principal.has_any("operator"):
        raise Forbidden("this route needs one of the roles: admin, operator")
    await deployment_owner(services(request), principal, name, change=change)
    return monitoring, principal


@router.post("/v1/feedback", status_code=201)
async def give_feedback(body: FeedbackBody, request: Request) -> Response:
    """The true label (or a score) of a prediction, any time after it was made.

    A key sees only its own tenant's predictions, on deployments it may use; any other id is
    404. The label must fit the model: a class label for a classifier, a number otherwise.
    """
    monitoring, principal = await _monitoring(request)
    if "label" not in body.model_fields_set and body.score is None:
        raise InvalidRequest(
            "send a 'label' (the true answer) or a 'score' (how good the answer was)",
            details={"field": "label"},
        )
    done = await monitoring.feedback.record(
        body.request_id,
        index=body.index,
        label=body.label,
        score=body.score,
        source="feedback",
        actor=principal.name,
        tenant=None if principal.is_admin else principal.tenant,
        may_use=principal.can_use,
    )
    return json_response(
        {
            "id": done.id,
            "request_id": done.request_id,
            "index": done.index,
            "deployment": done.deployment,
            "version": done.version,
            "task": done.task,
            "correct": done.correct,
            "abs_error": done.abs_error,
            "score": done.score,
            "at": done.at.isoformat(),
        },
        201,
    )


@router.get("/v1/admin/deployments/{name}/accuracy")
async def accuracy(
    name: str,
    request: Request,
    window: str | None = None,
    version: QueryId = None,
) -> Response:
    """Rolling accuracy and macro-F1 (classifiers), MAE and RMSE (regressors) and mean score,
    per window, version and segment value. An operator sees its own tenant's labels only."""
    monitoring, principal = await _operator(request, name)
    if not monitoring.known(name) and not await monitoring.feedback.versions(name):
        await require_known(services(request), name, principal)  # else: no feedback yet
    tenant = None if principal.is_admin else principal.tenant
    figures = await monitoring.accuracy.figures(name, window=window, version=version, tenant=tenant)
    if tenant is None and window is None and version is None:
        monitoring.outlets.quality(name, figures)
    return json_response(
        {
            "deployment": name,
            "tenant": tenant,
            "windows": [w.name for w in monitoring.accuracy.windows(window)],
            "data": [q.to_dict() for q in figures],
        }
    )


@router.get("/v1/admin/deployments/{name}/drift")
async def drift(
    name: str,
    request: Request,
    version: QueryId = None,
    windows: int = Query(1, ge=1, le=1000),
    format: Literal["json", "html", "text"] = "json",
) -> Response:
    """Drift of the live window (merged with ``windows - 1`` earlier ones) against the
    version's reference: per signal the statistics, and ``ok | drift | insufficient_data``."""
    monitoring, principal = await _operator(request, name)
    svc = services(request)
    await require_known(svc, name, principal)
    # a tenant's operator sees its own traffic's drift on a deployment every tenant shares
    shared = svc.deployments.owner(name) is None
    tenant = principal.tenant if shared and not principal.is_admin else None
    report, reference = await monitoring.drift.report(name, version, windows, tenant=tenant)
    if format == "html":
        return HTMLResponse(report.to_html())
    if format == "text":
        return Response(report.to_text() + "\n", media_type="text/plain; charset=utf-8")
    return json_response({**report.to_dict(), "reference": reference, "tenant": tenant})


@router.post("/v1/admin/deployments/{name}/drift/baseline")
async def baseline(name: str, request: Request, body: BaselineBody | None = None) -> Response:
    """Make the drift reference from live traffic: freeze the current window (the last
    ``drift.window_s`` seconds of logged predictions, or those ``since``), or with ``rows``
    collect the next N rows. Either replaces the version's reference for this deployment."""
    monitoring, principal = await _operator(request, name, change=True)
    await require_known(services(request), name, principal)
    body = body or BaselineBody()
    if body.rows is not None:
        if body.since is not None:
            raise InvalidRequest(
                "send either 'rows' or 'since', not both", details={"field": "rows"}
            )
        done = await monitoring.drift.collect(
            name, version=body.version, rows=body.rows, actor=principal.name
        )
        return json_response(done, 202)
    done = await monitoring.drift.freeze(
        name, version=body.version, since=body.since, actor=principal.name
    )
    return json_response(done, 201)
