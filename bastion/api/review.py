"""Review API: a client's review status, the reviewers' queue, operators' overrides, export."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.api.known import require_known
from bastion.api.params import MAX_INT64
from bastion.api.render import json_response
from bastion.errors import InvalidRequest
from bastion.review import ReviewService
from bastion.review.export import MEDIA_TYPES

router = APIRouter(tags=["review"])

Status = Literal["pending", "approved", "corrected", "rejected", "overridden"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimBody(_Body):
    deployment: str | None = None


class DecideBody(_Body):
    action: Literal["approve", "correct", "reject", "escalate"]
    output: Any = None
    reason: str = Field("", max_length=2000)


class OverrideBody(_Body):
    index: int = Field(0, ge=0, le=MAX_INT64)
    output: Any
    reason: str = Field(min_length=1, max_length=2000)


async def _review(request: Request, deployment: str | None = None) -> tuple[ReviewService, Any]:
    """The review service and the caller; a ``deployment`` filter must name a known one."""
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    if deployment is not None:
        await require_known(svc, deployment, principal)
    return svc.review, principal


@router.get("/v1/reviews/{review_id}")
async def review_status(review_id: str, request: Request) -> Response:
    """A client's view of one review: ``pending_review``, then the decision and the answer."""
    review, principal = await _review(request)
    return json_response(await review.client_status(review_id, principal))


@router.get("/v1/review/items")
async def list_items(
    request: Request,
    status: Status | None = "pending",
    deployment: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Response:
    """Your tenants' queue, most urgent first (priority, then age)."""
    review, principal = await _review(request, deployment)
    items = await review.browse(principal, status=status, deployment=deployment, limit=limit)
    return json_response({"data": items})


@router.get("/v1/review/items/{item_id}")
async def show_item(item_id: str, request: Request) -> Response:
    review, principal = await _review(request)
    return json_response(await review.show(item_id, principal))


@router.post("/v1/review/claim")
async def claim_next(request: Request, body: ClaimBody | None = None) -> Response:
    """Claim the most urgent free item (a lease of ``review.lease_s``); 404 if none is free."""
    deployment = body.deployment if body else None
    review, principal = await _review(request, deployment)
    return json_response(await review.claim(None, principal, deployment))


@router.post("/v1/review/items/{item_id}/claim")
async def claim(item_id: str, request: Request) -> Response:
    """Lease one item; 409 ``conflict`` if another reviewer holds it."""
    review, principal = await _review(request)
    return json_response(await review.claim(item_id, principal, None))


@router.post("/v1/review/items/{item_id}/release")
async def release(item_id: str, request: Request) -> Response:
    review, principal = await _review(request)
    return json_response(await review.release(item_id, principal))


@router.post("/v1/review/items/{item_id}/decide")
async def decide(item_id: str, body: DecideBody, request: Request) -> Response:
    """approve | correct (with ``output``, checked against the output contract) | reject |
    escalate (to the second tier); every action but approve needs a ``reason``."""
    review, principal = await _review(request)
    if body.action == "correct" and "output" not in body.model_fields_set:
        raise InvalidRequest(
            "output: a correction needs the corrected output", details={"field": "output"}
        )
    decided = await review.decide(item_id, principal, body.action, body.output, body.reason)
    return json_response(decided)


@router.get("/v1/review/export")
async def export(
    request: Request,
    format: Literal["jsonl", "parquet"] = "jsonl",
    deployment: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """Decided items as training data: input, model output and confidence, final output,
    reviewer, reason, timestamps and model version."""
    review, principal = await _review(request, deployment)
    data = await review.export(principal, format, deployment=deployment, since=since, until=until)
    name = f"review-export.{format}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(data, 200, headers, media_type=MEDIA_TYPES[format])


@router.post("/v1/admin/predictions/{request_id}/override")
async def override(request_id: str, body: OverrideBody, request: Request) -> Response:
    """An operator's correction of any past prediction (by its request id); feeds accuracy."""
    review, principal = await _review(request)
    done = await review.override(
        request_id, principal, index=body.index, output=body.output, reason=body.reason
    )
    return json_response(done)
