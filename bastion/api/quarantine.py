"""Quarantine admin API: list and show held rows, replay them, drop them.

Rows belong to the tenant whose call or job produced them; another tenant's row is a 404.
Replay checks a row against today's contract and, if it passes, answers it through the
deployment's pipeline as the caller; drop marks rows dropped (they stay listed with
``status=dropped``). Both check every id first and change nothing if one is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.params import PathId
from bastion.api.render import json_response
from bastion.data import DataService
from bastion.security import Principal, require_deployment, require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["data"])


async def _operator(request: Request) -> Principal:
    principal = await authenticated(request)
    require_roles(principal, "operator")
    return principal


OPERATOR = Depends(_operator)


class IdsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(min_length=1, max_length=1000)


def _data(request: Request) -> tuple[Services, DataService]:
    svc = services(request)
    return svc, svc.data


@router.get("/quarantine")
async def list_quarantine(
    request: Request,
    deployment: str | None = None,
    source: str | None = None,
    status: str = "held",
    limit: int = 100,
    principal: Principal = OPERATOR,
) -> Response:
    _, data = _data(request)
    rows = await data.store.list_rows(
        principal.tenant,
        all_tenants=principal.is_admin,
        deployment=deployment,
        source=source,
        status=None if status == "all" else status,
        limit=max(1, min(limit, 1000)),
    )
    return json_response({"data": rows})


@router.get("/quarantine/{item_id}")
async def show_quarantined(
    item_id: PathId, request: Request, principal: Principal = OPERATOR
) -> Response:
    _, data = _data(request)
    row = await data.store.get(item_id, principal.tenant, all_tenants=principal.is_admin)
    return json_response({"data": row})


async def _visible(data: DataService, principal: Principal, ids: list[int]) -> list[dict[str, Any]]:
    return [await data.store.get(i, principal.tenant, all_tenants=principal.is_admin) for i in ids]


@router.post("/quarantine/replay")
async def replay(body: IdsBody, request: Request, principal: Principal = OPERATOR) -> Response:
    svc, data = _data(request)
    items = await _visible(data, principal, body.ids)
    for item in items:
        require_deployment(principal, item["deployment"])
    results = [await data.replay(svc.pipeline, principal, item) for item in items]
    if svc.audit is not None:
        await svc.audit.admin(principal, "quarantine.replayed", "quarantine", {"ids": body.ids})
    return json_response({"data": results})


@router.post("/quarantine/drop")
async def drop(body: IdsBody, request: Request, principal: Principal = OPERATOR) -> Response:
    svc, data = _data(request)
    await _visible(data, principal, body.ids)
    await data.store.set_status(body.ids, "dropped")
    if svc.audit is not None:
        await svc.audit.admin(principal, "quarantine.dropped", "quarantine", {"ids": body.ids})
    return json_response({"data": {"dropped": body.ids}})
