"""Admin API: the model registry (register, aliases, promote, rollback, verify) and API keys.

Promote and alias moves pass the alias's promotion gates (evaluation/); rollback never does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import caller
from bastion.api.known import require_known
from bastion.api.owned import changeable_model, model_owner
from bastion.api.params import BodyId, PathId
from bastion.api.render import json_response
from bastion.backends.entry_check import check_module_entry_point, check_source_entry_point
from bastion.backends.factories import check_flavor
from bastion.errors import InvalidRequest, NotFound
from bastion.security import Principal, require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["admin"])
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}  # responses holding a secret


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterBody(_Body):
    flavor: str
    artifact_base64: str | None = None
    artifact_name: str | None = None
    signature: dict[str, Any] | None = None
    metrics: dict[str, float] | None = None
    params: dict[str, Any] | None = None
    training_data_hash: str | None = None
    description: str = ""
    tenant: str | None = Field(None, description="admins only: the owning tenant of a new model")
    shared: bool = Field(False, description="a new model shared by every tenant (admins only)")


class PromoteBody(_Body):
    version: BodyId
    alias: str = "production"
    reason: str = ""
    override: bool = Field(False, description="admins only, with a reason: pass failed gates")


class RollbackBody(_Body):
    alias: str = "production"
    reason: str = ""


class AliasBody(_Body):
    version: BodyId
    reason: str = ""
    override: bool = Field(False, description="admins only, with a reason: pass failed gates")


class KeyBody(_Body):
    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1)
    deployments: list[str] | None = None
    tenant: str = "default"
    team: str | None = None
    expires_at: datetime | None = None
    metadata: dict[str, Any] | None = None


class RotateBody(_Body):
    grace_s: float = Field(86400.0, ge=0, le=90 * 86400, description="old key's remaining life")


async def audit_change(
    svc: Services, actor: Principal, action: str, target: str, **details: Any
) -> None:
    """Record an admin change in the audit log (committed before the route answers)."""
    if svc.audit is not None:
        await svc.audit.admin(actor, action, target, details)


async def _gated(
    svc: Services, principal: Principal, name: str, version: int, alias: str, body: Any
) -> list[Any]:
    """The alias's promotion gates: PromotionGateFailed (409) unless they pass or an admin
    overrides them; returns the overridden failures (audited once the alias moved)."""
    return await svc.evaluation.guard.authorize(
        name,
        version,
        alias,
        admin=principal.is_admin,
        override=body.override,
        reason=body.reason,
        requester=principal.key_id,
    )


async def _audit_override(
    svc: Services, principal: Principal, name: str, event: Any, failed: list[Any], reason: str
) -> None:
    if failed:
        gates = [f.to_dict() for f in failed]
        details = {**_alias_details(event, reason), "failed_gates": gates}
        await audit_change(svc, principal, "model.promotion_overridden", name, **details)


def _moved(event: Any, failed: list[Any]) -> dict[str, Any]:
    """The alias event, with the gates an admin overrode (empty when every gate passed)."""
    return {**dataclasses.asdict(event), "overridden_gates": [f.to_dict() for f in failed]}


def _alias_details(event: Any, reason: str) -> dict[str, Any]:
    return {
        "alias": event.alias,
        "version": event.version,
        "previous_version": event.previous_version,
        "reason": reason,
    }


@router.get("/models")
async def list_models(request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    models = await svc.registry.list_models()
    seen = [m for m in models if svc.ownership.visible(principal, m.tenant)]
    return json_response({"data": seen})


@router.get("/models/{name}")
async def show_model(name: str, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    owner = await model_owner(svc, principal, name)
    versions = await svc.registry.list_versions(name)
    aliases = await svc.registry.aliases(name)
    return json_response({"name": name, "tenant": owner, "aliases": aliases, "versions": versions})


@router.get("/models/{name}/versions/{version}")
async def show_version(name: str, version: PathId, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    await model_owner(svc, principal, name)
    return json_response(await svc.registry.get_version(name, version))


@router.post("/models/{name}/versions", status_code=201)
async def register(name: str, body: RegisterBody, request: Request) -> Response:
    svc, principal = await caller(request)
    tenant = await register_owner(svc, principal, name, body.tenant, body.shared)
    artifact: bytes | None = None
    if body.artifact_base64 is not None:
        try:
            artifact = base64.b64decode(body.artifact_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest(
                "artifact_base64: not valid base64", details={"field": "artifact_base64"}
            ) from exc
    flavor = check_flavor(body.flavor)
    if flavor == "python" and artifact is None:  # imported here, never called
        await asyncio.to_thread(check_module_entry_point, body.params)
    elif flavor == "python" and artifact is not None:  # parsed, not run
        check_source_entry_point(body.params, artifact)
    mv = await svc.registry.register(
        name,
        flavor=flavor,
        artifact=artifact,
        artifact_name=body.artifact_name,
        signature=body.signature,
        metrics=body.metrics,
        params=body.params,
        training_data_hash=body.training_data_hash,
        description=body.description,
        created_by=principal.name,
        tenant=tenant,
        created_by_key=principal.key_id,
    )
    await audit_change(svc, principal, "model.registered", f"{name}@{mv.version}", flavor=mv.flavor)
    return json_response(mv, 201)


async def register_owner(
    svc: Services, principal: Principal, name: str, tenant: str | None, shared: bool
) -> str | None:
    """The owner of the model a version is registered under: a new model's from the body
    (shared or a tenant, admins only), an existing model's own (which the caller must see)."""
    try:
        owner = await svc.registry.owner(name)
    except NotFound:
        return svc.ownership.owner_for_new(principal, tenant, shared)
    svc.ownership.require_change(principal, owner, f"model named '{name}'")
    if shared or (tenant is not None and tenant != owner):
        raise InvalidRequest(
            f"model '{name}' already exists with owner {owner or 'shared'}; a new version "
            "keeps its model's owner (leave out 'tenant' and 'shared')",
            details={"field": "tenant"},
        )
    return owner


async def promote_version(
    svc: Services, principal: Principal, name: str, body: PromoteBody
) -> tuple[Any, list[Any]]:
    """Promote through the alias's gates and approvals, refresh, audit: the one path every
    caller takes (this route, the console). Returns the alias event and the gates an admin
    overrode."""
    require_roles(principal, "operator")
    await changeable_model(svc, principal, name)
    failed = await _gated(svc, principal, name, body.version, body.alias, body)
    event = await svc.registry.promote(
        name, body.version, alias=body.alias, actor=principal.name, reason=body.reason
    )
    await svc.deployments.refresh()
    await _audit_override(svc, principal, name, event, failed, body.reason)
    await audit_change(svc, principal, "model.promoted", name, **_alias_details(event, body.reason))
    return event, failed


async def rollback_alias(svc: Services, principal: Principal, name: str, body: RollbackBody) -> Any:
    """Roll an alias back (never gated), refresh, audit: the one path every caller takes."""
    require_roles(principal, "operator")
    await changeable_model(svc, principal, name)
    event = await svc.registry.rollback(
        name, alias=body.alias, actor=principal.name, reason=body.reason
    )
    await svc.deployments.refresh()
    await audit_change(
        svc, principal, "model.rolled_back", name, **_alias_details(event, body.reason)
    )
    return event


@router.post("/models/{name}/promote")
async def promote(name: str, body: PromoteBody, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    event, failed = await promote_version(svc, principal, name, body)
    return json_response(_moved(event, failed))


@router.post("/models/{name}/rollback")
async def rollback(name: str, body: RollbackBody, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    return json_response(await rollback_alias(svc, principal, name, body))


@router.put("/models/{name}/aliases/{alias}")
async def set_alias(name: str, alias: str, body: AliasBody, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    await changeable_model(svc, principal, name)
    failed = await _gated(svc, principal, name, body.version, alias, body)
    event = await svc.registry.set_alias(
        name, alias, body.version, actor=principal.name, reason=body.reason
    )
    await svc.deployments.refresh()
    await _audit_override(svc, principal, name, event, failed, body.reason)
    await audit_change(
        svc, principal, "model.alias_set", name, **_alias_details(event, body.reason)
    )
    return json_response(_moved(event, failed))


@router.get("/models/{name}/history")
async def history(name: str, request: Request, alias: str | None = None) -> Response:
    svc, principal = await caller(request, "operator")
    await model_owner(svc, principal, name)
    return json_response({"data": await svc.registry.alias_history(name, alias)})


@router.post("/models/{name}/verify")
async def verify(name: str, request: Request) -> Response:
    svc, principal = await caller(request, "operator")
    await model_owner(svc, principal, name)
    results = await svc.registry.verify(name)
    return json_response({"ok": all(r.ok for r in results), "data": results})


@router.get("/upstreams")
async def upstreams(request: Request) -> Response:
    """Every LLM group's upstreams: breaker state, in-flight and waiting requests, retries."""
    svc, _ = await caller(request, "operator")
    return json_response({"data": svc.gateway.status()})


@router.get("/keys")
async def list_keys(
    request: Request, tenant: str | None = None, team: str | None = None
) -> Response:
    svc, _ = await caller(request)
    return json_response({"data": await svc.keys.list(tenant=tenant, team=team)})


@router.get("/keys/{key_id}")
async def show_key(key_id: str, request: Request) -> Response:
    svc, _ = await caller(request)
    return json_response(await svc.keys.get(key_id))


@router.post("/keys/{key_id}/rotate", status_code=201)
async def rotate_key(key_id: str, body: RotateBody, request: Request) -> Response:
    """A new secret with the same grants; the old one keeps working for ``grace_s``."""
    svc, principal = await caller(request)
    secret, key = await svc.keys.rotate(key_id, grace_s=body.grace_s)
    svc.authenticator.forget()
    await audit_change(svc, principal, "key.rotated", key.id, replaces=key_id, grace_s=body.grace_s)
    note = f"store this key now; it is shown only once. The old key works {body.grace_s:g}s more"
    answer = {"key": secret, "data": key, "replaces": key_id, "note": note}
    return json_response(answer, 201, headers=NO_STORE)


@router.post("/keys", status_code=201)
async def create_key(body: KeyBody, request: Request) -> Response:
    svc, principal = await caller(request)
    for deployment in body.deployments or []:  # a grant must name something that exists
        await require_known(svc, deployment)
    secret, key = await svc.keys.create(
        body.name,
        body.roles,
        deployments=body.deployments,
        tenant=body.tenant,
        team=body.team,
        expires_at=body.expires_at,
        metadata=body.metadata,
    )
    roles, tenant = list(key.roles), key.tenant
    await audit_change(
        svc, principal, "key.created", key.id, name=key.name, roles=roles, tenant=tenant
    )
    note = "store this key now; it is shown only once"
    return json_response({"key": secret, "data": key, "note": note}, 201, headers=NO_STORE)


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, request: Request) -> Response:
    svc, principal = await caller(request)
    await svc.keys.revoke(key_id)
    svc.authenticator.forget()
    await audit_change(svc, principal, "key.revoked", key_id)
    return json_response({"revoked": key_id})
