"""Backfill admin API: re-run logged history through a version; its report; as an eval set.

``POST /v1/admin/backfills`` exports the prediction log's inputs of a deployment in
[since, until) (where payloads were stored) and queues a backfill job over them (a file
upload goes through ``POST /v1/admin/jobs?kind=backfill``). ``GET /v1/admin/jobs/{id}/report``
is the comparison; ``POST /v1/admin/jobs/{id}/eval-set`` registers the rows as an eval set.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from pathlib import Path

import orjson
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.params import BodyId
from bastion.api.render import json_response
from bastion.errors import ModelNotReady
from bastion.jobs.backfill import eval_rows, export_log
from bastion.security import Principal, require_roles

router = APIRouter(prefix="/v1/admin", tags=["jobs"])


async def _operator(request: Request) -> Principal:
    principal = await authenticated(request)
    require_roles(principal, "operator")
    return principal


OPERATOR = Depends(_operator)


class BackfillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deployment: str = Field(min_length=1, max_length=100)
    version: BodyId
    since: datetime
    until: datetime
    rows_per_s: float | None = Field(None, gt=0)


class EvalSetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    description: str = Field("", max_length=2000)


@router.post("/backfills", status_code=201)
async def create_backfill(
    body: BackfillBody, request: Request, principal: Principal = OPERATOR
) -> Response:
    svc = services(request)
    if svc.jobs is None or svc.predictions is None:
        raise ModelNotReady("backfills from the log need jobs and monitoring switched on")
    await svc.registry.get_version(
        svc.deployments.get(body.deployment).live().model, body.version
    )  # NotFound lists the versions
    tenant = None if principal.is_admin else principal.tenant
    export = functools.partial(export_log, svc.predictions, svc.db, body.deployment,
                               body.since, body.until, tenant)  # fmt: skip
    source = {"log": body.deployment, "since": body.since.isoformat(),
              "until": body.until.isoformat()}  # fmt: skip
    job = await svc.jobs.create_backfill(
        principal, export, deployment=body.deployment, version=body.version,
        rows_per_s=body.rows_per_s, source=source,
    )  # fmt: skip
    if svc.audit is not None:
        await svc.audit.admin(principal, "backfill.created", job.id, source)
    return json_response({"data": job.view()}, 201)


@router.get("/jobs/{job_id}/report")
async def report(job_id: str, request: Request, principal: Principal = OPERATOR) -> Response:
    svc = services(request)
    assert svc.jobs is not None
    path: Path = svc.jobs.report(await svc.jobs.get(principal, job_id))
    return json_response({"data": orjson.loads(await asyncio.to_thread(path.read_bytes))})


@router.post("/jobs/{job_id}/eval-set", status_code=201)
async def as_eval_set(
    job_id: str, body: EvalSetBody, request: Request, principal: Principal = OPERATOR
) -> Response:
    """The backfill's rows as an eval set: input, expected (label, else what was answered)."""
    svc = services(request)
    assert svc.jobs is not None
    job = await svc.jobs.get(principal, job_id)
    svc.jobs.report(job)  # a succeeded backfill, or 409
    content = await asyncio.to_thread(eval_rows, svc.jobs.files(job))
    found, created = await svc.evaluation.sets.register(
        body.name, content, filename=f"{job.id}.jsonl", fmt="jsonl",
        description=body.description or f"backfill {job.id}", created_by=principal.name,
    )  # fmt: skip
    return json_response({"data": found, "created": created}, 201 if created else 200)
