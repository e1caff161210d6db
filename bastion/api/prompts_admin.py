"""Admin API of prompt templates: register versions, list, show, history, promote (through
the prompts' promotion gates), set an alias, roll back (never gated), eval runs, approvals.

Every change is audited; a tenant's keys see and change only their tenant's prompts and the
shared ones they may manage (issue 24); another tenant's prompt answers 404.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import caller
from bastion.api.params import BodyId
from bastion.api.render import json_response
from bastion.errors import Forbidden, ModelNotReady, NotFound
from bastion.evaluation import GateFailure
from bastion.evaluation.sets import parse_ref
from bastion.prompts import PromptService
from bastion.prompts.evaluate import subject
from bastion.registry.entities import AliasEvent
from bastion.security import Principal, require_own_role
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["prompts"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterBody(_Body):
    template: dict[str, Any] = Field(description="the prompt.yaml: model, messages, variables…")
    tenant: str | None = Field(None, description="admins only: the owning tenant of a new prompt")
    shared: bool = Field(False, description="a new prompt shared by every tenant (admins only)")


class PromoteBody(_Body):
    version: BodyId
    alias: str = "production"
    reason: str = Field("", max_length=2000)
    override: bool = Field(False, description="admins only, with a reason: pass failed gates")


class AliasBody(_Body):
    version: BodyId
    reason: str = Field("", max_length=2000)
    override: bool = Field(False, description="admins only, with a reason: pass failed gates")


class RollbackBody(_Body):
    alias: str = "production"
    reason: str = Field("", max_length=2000)


class RunBody(_Body):
    version: str = Field("latest", max_length=70, description="a number, 'latest' or an alias")
    set: str = Field(min_length=1, max_length=80, description="SET or SET@VERSION")
    scorers: list[str] = Field(default_factory=list, max_length=20)
    model: str | None = Field(None, max_length=100, description="another model group to run on")


class ApprovalBody(_Body):
    comment: str = Field("", max_length=2000)


async def _caller(request: Request, *roles: str) -> tuple[Services, PromptService, Principal]:
    svc, principal = await caller(request, *roles)
    if svc.prompts is None:
        raise ModelNotReady("prompt templates are not enabled on this server (prompts.enabled)")
    return svc, svc.prompts, principal


async def _visible(svc: Services, prompts: PromptService, who: Principal, name: str) -> str | None:
    owner = await prompts.registry.owner(name)
    svc.ownership.require_visible(who, owner, f"prompt named '{name}'")
    return owner


async def _changeable(
    svc: Services, prompts: PromptService, who: Principal, name: str
) -> str | None:
    owner = await prompts.registry.owner(name)
    svc.ownership.require_change(who, owner, f"prompt named '{name}'")
    return owner


async def _audit(svc: Services, who: Principal, action: str, target: str, **details: Any) -> None:
    if svc.audit is not None:
        await svc.audit.admin(who, action, target, details)


def _moved(event: AliasEvent, failed: Sequence[GateFailure]) -> dict[str, Any]:
    return {**dataclasses.asdict(event), "overridden_gates": [f.to_dict() for f in failed]}


async def _alias_moved(
    svc: Services,
    prompts: PromptService,
    who: Principal,
    event: AliasEvent,
    failed: Sequence[GateFailure],
    reason: str,
) -> Response:
    """After a move: this replica follows at once (the others within a poll), audit."""
    await prompts.book.refresh()
    details = {
        "alias": event.alias,
        "version": event.version,
        "previous_version": event.previous_version,
        "reason": reason,
    }
    if failed:
        gates = [f.to_dict() for f in failed]
        await _audit(svc, who, "prompt.promotion_overridden", event.name, **details, failed=gates)
    action = {"rollback": "prompt.rolled_back", "set": "prompt.alias_set"}.get(
        event.action, "prompt.promoted"
    )
    await _audit(svc, who, action, event.name, **details)
    return json_response(_moved(event, failed))


@router.get("/prompts")
async def list_prompts(request: Request) -> Response:
    svc, prompts, who = await _caller(request, "operator", "approver")
    found = await prompts.registry.list_prompts()
    return json_response({"data": [p for p in found if svc.ownership.visible(who, p.tenant)]})


@router.post("/prompts/{name}/versions", status_code=201)
async def register(name: str, body: RegisterBody, request: Request) -> Response:
    svc, prompts, who = await _caller(request, "operator")
    try:
        owner = await prompts.registry.owner(name)
    except NotFound:
        owner = svc.ownership.owner_for_new(who, body.tenant, body.shared)
    else:
        svc.ownership.require_change(who, owner, f"prompt named '{name}'")
    version = await prompts.registry.register(
        name, body.template, created_by=who.name, created_by_key=who.key_id, tenant=owner
    )
    await _audit(svc, who, "prompt.registered", version.ref, sha256=version.sha256)
    return json_response({"data": version.to_dict()}, 201)


@router.get("/prompts/{name}")
async def show(name: str, request: Request) -> Response:
    svc, prompts, who = await _caller(request, "operator", "approver")
    owner = await _visible(svc, prompts, who, name)
    versions = await prompts.registry.list_versions(name)
    aliases = await prompts.registry.aliases(name)
    data = [v.to_dict() for v in versions]
    return json_response({"name": name, "tenant": owner, "aliases": aliases, "versions": data})


@router.get("/prompts/{name}/versions/{version}")
async def show_version(name: str, version: str, request: Request) -> Response:
    """One version: a number, ``latest`` or an alias."""
    svc, prompts, who = await _caller(request, "operator", "approver")
    await _visible(svc, prompts, who, name)
    return json_response((await prompts.registry.resolve(name, version)).to_dict())


@router.get("/prompts/{name}/history")
async def history(name: str, request: Request, alias: str | None = None) -> Response:
    svc, prompts, who = await _caller(request, "operator", "approver")
    await _visible(svc, prompts, who, name)
    return json_response({"data": await prompts.registry.history(name, alias)})


async def _gated(
    prompts: PromptService, who: Principal, name: str, version: int, alias: str, body: Any
) -> Sequence[GateFailure]:
    await prompts.registry.get_version(name, version)  # NotFound lists the versions
    return await prompts.guard.authorize(
        name,
        version,
        alias,
        admin=who.is_admin,
        override=body.override,
        reason=body.reason,
        requester=who.key_id,
    )


@router.post("/prompts/{name}/promote")
async def promote(name: str, body: PromoteBody, request: Request) -> Response:
    svc, prompts, who = await _caller(request, "operator")
    await _changeable(svc, prompts, who, name)
    failed = await _gated(prompts, who, name, body.version, body.alias, body)
    event = await prompts.registry.set_alias(
        name, body.alias, body.version, actor=who.name, reason=body.reason, action="promote"
    )
    return await _alias_moved(svc, prompts, who, event, failed, body.reason)


@router.put("/prompts/{name}/aliases/{alias}")
async def set_alias(name: str, alias: str, body: AliasBody, request: Request) -> Response:
    svc, prompts, who = await _caller(request, "operator")
    await _changeable(svc, prompts, who, name)
    failed = await _gated(prompts, who, name, body.version, alias, body)
    event = await prompts.registry.set_alias(
        name, alias, body.version, actor=who.name, reason=body.reason, action="set"
    )
    return await _alias_moved(svc, prompts, who, event, failed, body.reason)


@router.post("/prompts/{name}/rollback")
async def rollback(name: str, body: RollbackBody, request: Request) -> Response:
    """Point the alias back at the version it held before (never gated: the way out)."""
    svc, prompts, who = await _caller(request, "operator")
    await _changeable(svc, prompts, who, name)
    event = await prompts.registry.rollback(name, body.alias, actor=who.name, reason=body.reason)
    return await _alias_moved(svc, prompts, who, event, (), body.reason)


@router.post("/prompts/{name}/evaluations", status_code=201)
async def run_eval(name: str, body: RunBody, request: Request) -> Response:
    """Run a prompt version on an eval set against its model group (or ``model``); store
    the report that the prompt's promotion gates read."""
    svc, prompts, who = await _caller(request, "operator")
    owner = await _visible(svc, prompts, who, name)
    version = await prompts.registry.resolve(name, body.version)
    set_name, _ = parse_ref(body.set)
    sets = prompts.evaluation.sets
    svc.ownership.require_visible(who, await sets.owner(set_name), f"eval set named {set_name!r}")
    eval_set = await sets.resolve(body.set)
    report = await prompts.runner.run(
        version,
        eval_set,
        await sets.rows(eval_set),
        principal=who,
        scorers=body.scorers,
        group=body.model,
        created_by=who.name,
        tenant=owner if who.is_admin else who.tenant,
    )
    details = {"set": report.set_ref, "report": report.id, "metrics": report.metrics}
    await _audit(svc, who, "prompt.eval_run", version.ref, **details)
    return json_response({"data": report}, 201)


@router.get("/prompts/{name}/reports")
async def reports(name: str, request: Request, version: int | None = None) -> Response:
    svc, prompts, who = await _caller(request, "operator", "approver")
    await _visible(svc, prompts, who, name)
    found = await prompts.evaluation.reports.list_reports(subject(name), version, limit=100)
    return json_response({"data": [r for r in found if svc.ownership.visible(who, r.tenant)]})


@router.post("/prompts/{name}/versions/{version}/approvals", status_code=201)
async def approve(name: str, version: int, body: ApprovalBody, request: Request) -> Response:
    """Approve a prompt version (once per approver key); approval gates count these."""
    svc, prompts, who = await _caller(request, "approver")
    require_own_role(who, "approver")  # an approval is the approver's own sign-off
    owner = await _visible(svc, prompts, who, name)
    registered = await prompts.registry.get_version(name, version)
    if not svc.ownership.entitled_approver(who.key_id, who.tenant, owner):
        raise Forbidden(
            f"key '{who.name}' of tenant '{who.tenant}' may not approve for prompt '{name}': "
            "approvals count from the owning tenant's approvers, or for shared prompts from "
            "global approvers (security.global_approvers)"
        )
    if registered.created_by_key == who.key_id:
        raise Forbidden(
            f"key '{who.name}' registered prompt {name} v{version} and cannot approve it; "
            "an approval is a second person's sign-off"
        )
    approval = await prompts.evaluation.approvals.approve(
        subject(name),
        version,
        key_id=who.key_id,
        approver=who.name,
        comment=body.comment,
        tenant=who.tenant,
    )
    await _audit(svc, who, "prompt.approved", registered.ref, comment=body.comment)
    return json_response({"data": approval}, 201)
