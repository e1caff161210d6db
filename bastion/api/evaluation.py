"""Evaluation admin API: eval sets, runs on the server, reports, and approvals of versions.

Operators (and admins) write; approvers read, and approve versions — an approval needs a key
that holds the ``approver`` role itself (see docs/evaluation.md: admin alone is not enough).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.owned import model_owner
from bastion.api.params import PathId, QueryId
from bastion.api.render import json_response
from bastion.errors import Forbidden, InvalidRequest, NotFound
from bastion.evaluation import EvaluationService
from bastion.evaluation.entities import EvalSet
from bastion.evaluation.sets import parse_ref
from bastion.security import Principal, require_own_role, require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["evaluation"])


def _needs(*roles: str, own: str | None = None) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller's principal if it holds one of ``roles`` (admins hold all),
    or, with ``own``, that role itself. FastAPI resolves it before validating the body: a 403
    comes before a 422."""

    async def check(request: Request) -> Principal:
        principal = await authenticated(request)
        if own is not None:
            require_own_role(principal, own)
        else:
            require_roles(principal, *roles)
        return principal

    return check


WRITE = Depends(_needs("operator"))
READ = Depends(_needs("operator", "approver"))
APPROVE = Depends(_needs(own="approver"))


def _evaluation(request: Request) -> tuple[Services, EvaluationService]:
    svc = services(request)
    return svc, svc.evaluation


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetBody(_Body):
    name: str = Field(min_length=1, max_length=63)
    content: str | None = Field(None, description="the file's text (JSONL or CSV)")
    content_base64: str | None = Field(None, description="the file's bytes (e.g. Parquet)")
    format: str | None = Field(None, description="jsonl | csv | parquet (default: sniffed)")
    filename: str | None = Field(None, max_length=255)
    description: str = Field("", max_length=2000)
    tenant: str | None = Field(None, description="admins only: the owning tenant of a new set")
    shared: bool = Field(False, description="a new set shared by every tenant (admins only)")

    @model_validator(mode="after")
    def _one_content(self) -> SetBody:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of 'content' or 'content_base64'")
        return self

    def data(self) -> bytes:
        if self.content is not None:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest(
                "content_base64: not valid base64", details={"field": "content_base64"}
            ) from exc


class RunBody(_Body):
    model: str = Field(min_length=3, max_length=140, description="NAME@VERSION (or @alias)")
    set: str = Field(min_length=1, max_length=80, description="SET or SET@VERSION")
    scorers: list[str] = Field(default_factory=list, max_length=20)
    output_field: str | None = Field(None, max_length=200)


class ApprovalBody(_Body):
    comment: str = Field("", max_length=2000)


@router.get("/eval/sets")
async def list_sets(
    request: Request, name: str | None = None, principal: Principal = READ
) -> Response:
    svc, evaluation = _evaluation(request)
    found = await evaluation.sets.list_sets(name)
    return json_response({"data": [s for s in found if svc.ownership.visible(principal, s.tenant)]})


@router.post("/eval/sets", status_code=201)
async def register_set(body: SetBody, request: Request, principal: Principal = WRITE) -> Response:
    """Validate and store an eval set; the same content again answers 200 with its version."""
    svc, evaluation = _evaluation(request)
    try:
        tenant = await evaluation.sets.owner(body.name)
    except NotFound:
        tenant = svc.ownership.owner_for_new(principal, body.tenant, body.shared)
    else:
        svc.ownership.require_change(principal, tenant, f"eval set named '{body.name}'")
    found, created = await evaluation.sets.register(
        body.name,
        body.data(),
        filename=body.filename,
        fmt=body.format,
        description=body.description,
        created_by=principal.name,
        tenant=tenant,
        created_by_key=principal.key_id,
    )
    if created and svc.audit is not None:
        details = {"sha256": found.sha256, "rows": found.rows, "format": found.format}
        await svc.audit.admin(principal, "eval_set.registered", found.ref, details)
    return json_response({"data": found, "created": created}, 201 if created else 200)


@router.post("/eval/runs", status_code=201)
async def run_eval(body: RunBody, request: Request, principal: Principal = WRITE) -> Response:
    """Run a model version on an eval set in this server and store the report."""
    svc, evaluation = _evaluation(request)
    model_name = body.model.split("@", 1)[0]
    owner = await model_owner(svc, principal, model_name)
    await _visible_set(svc, evaluation, principal, body.set)
    report = await evaluation.runner.run(
        body.model,
        body.set,
        scorers=body.scorers,
        output_field=body.output_field,
        created_by=principal.name,
        allowed_modules=evaluation.settings.custom_scorer_modules,
        tenant=owner if principal.is_admin else principal.tenant,
    )
    if svc.audit is not None:
        target = f"{report.model}@{report.version}"
        details = {"set": report.set_ref, "report": report.id, "metrics": report.metrics}
        await svc.audit.admin(principal, "eval.run", target, details)
    return json_response({"data": report}, 201)


@router.get("/eval/reports")
async def list_reports(
    request: Request,
    model: str | None = None,
    version: QueryId = None,
    set: str | None = None,
    limit: int = 100,
    principal: Principal = READ,
) -> Response:
    svc, evaluation = _evaluation(request)
    if model is not None:
        await model_owner(svc, principal, model)
    reports = await evaluation.reports.list_reports(
        model, version, set_name=set, limit=max(1, min(limit, 1000))
    )
    seen = [r for r in reports if svc.ownership.visible(principal, r.tenant)]
    return json_response({"data": seen})


@router.post("/models/{name}/versions/{version}/approvals", status_code=201)
async def approve(
    name: str, version: PathId, body: ApprovalBody, request: Request, principal: Principal = APPROVE
) -> Response:
    """Approve a model version (once per approver key); approval gates count these."""
    svc, evaluation = _evaluation(request)
    owner = await model_owner(svc, principal, name)
    mv = await svc.registry.get_version(name, version)  # NotFound lists the versions
    _entitled(svc, principal, owner, f"model '{name}'")
    if mv.created_by_key == principal.key_id:
        raise Forbidden(
            f"key '{principal.name}' registered {name} v{version} and cannot approve it; "
            "an approval is a second person's sign-off"
        )
    approval = await evaluation.approvals.approve(
        name,
        version,
        key_id=principal.key_id,
        approver=principal.name,
        comment=body.comment,
        tenant=principal.tenant,
    )
    if svc.audit is not None:
        await svc.audit.admin(
            principal, "model.approved", f"{name}@{version}", {"comment": body.comment}
        )
    return json_response({"data": approval}, 201)


@router.get("/models/{name}/versions/{version}/approvals")
async def list_approvals(
    name: str, version: PathId, request: Request, principal: Principal = READ
) -> Response:
    svc, evaluation = _evaluation(request)
    await model_owner(svc, principal, name)
    await svc.registry.get_version(name, version)
    return json_response({"data": await evaluation.approvals.list_approvals(name, version)})


@router.post("/eval/sets/{name}/versions/{version}/approvals", status_code=201)
async def approve_set(
    name: str, version: PathId, body: ApprovalBody, request: Request, principal: Principal = APPROVE
) -> Response:
    """Approve an eval-set version: gates pinned to an older version move to it once it holds
    as many approvals as the gate asks of a promotion (its author's never counts)."""
    svc, evaluation = _evaluation(request)
    eval_set = await _visible_set(svc, evaluation, principal, f"{name}@{version}")
    _entitled(svc, principal, eval_set.tenant, f"eval set '{name}'")
    if eval_set.created_by_key == principal.key_id:
        raise Forbidden(
            f"key '{principal.name}' wrote eval set {eval_set.ref} and cannot approve it"
        )
    approval = await evaluation.pins.approve_set(
        eval_set,
        key_id=principal.key_id,
        approver=principal.name,
        tenant=principal.tenant,
        comment=body.comment,
    )
    if svc.audit is not None:
        await svc.audit.admin(principal, "eval_set.approved", eval_set.ref, {})
    return json_response({"data": approval}, 201)


@router.get("/eval/sets/{name}/versions/{version}/approvals")
async def list_set_approvals(
    name: str, version: PathId, request: Request, principal: Principal = READ
) -> Response:
    svc, evaluation = _evaluation(request)
    eval_set = await _visible_set(svc, evaluation, principal, f"{name}@{version}")
    approvals = await evaluation.pins.set_approvals(eval_set.name, eval_set.version)
    return json_response({"data": approvals})


async def _visible_set(
    svc: Services, evaluation: EvaluationService, principal: Principal, ref: str
) -> EvalSet:
    """The eval set ``ref`` names, if ``principal`` may see it (404 as if absent)."""
    name, _ = parse_ref(ref)
    owner = await evaluation.sets.owner(name)
    svc.ownership.require_visible(principal, owner, f"eval set named {name!r}")
    return await evaluation.sets.resolve(ref)


def _entitled(svc: Services, principal: Principal, owner: str | None, what: str) -> None:
    if not svc.ownership.entitled_approver(principal.key_id, principal.tenant, owner):
        raise Forbidden(
            f"key '{principal.name}' of tenant '{principal.tenant}' may not approve for {what}: "
            "approvals count from the owning tenant's approvers, or for shared objects from "
            "global approvers (security.global_approvers)"
        )
