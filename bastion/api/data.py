"""Data admin API: compare a file with what a deployment's served version expects.

``POST /v1/admin/data/diff?deployment=&filename=`` takes the file's bytes (CSV, JSONL or
Parquet; streamed to a temporary file, its first ``data.sample_rows`` rows read) and answers
the schema diff (new, missing and renamed fields, type changes, new categories, unit shifts);
the diff is also the deployment's ``schema_change`` alert signal. ``GET /v1/admin/data/diff``
lists the newest diff per deployment (live traffic's included).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.render import json_response
from bastion.errors import InvalidRequest
from bastion.jobs.formats import read_chunks, sniff_format
from bastion.security import Principal, require_deployment, require_roles

router = APIRouter(prefix="/v1/admin", tags=["data"])


async def _operator(request: Request) -> Principal:
    principal = await authenticated(request)
    require_roles(principal, "operator")
    return principal


OPERATOR = Depends(_operator)


@router.post("/data/diff")
async def diff(
    request: Request, deployment: str, filename: str = "input", principal: Principal = OPERATOR
) -> Response:
    svc = services(request)
    require_deployment(principal, deployment)
    fmt = sniff_format(filename)
    loaded = svc.deployments.get(deployment).live()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input.{fmt}"
        with path.open("wb") as fh:
            async for block in request.stream():
                await asyncio.to_thread(fh.write, block)
        chunks = read_chunks(path, fmt, svc.settings.data.sample_rows)
        first = await asyncio.to_thread(next, chunks, None)
    if first is None:
        raise InvalidRequest(f"the input '{filename}' holds no rows")
    found = await svc.data.diff(
        deployment, loaded.version, loaded.contract.input_schema, first.values
    )
    body = {"deployment": deployment, "version": loaded.version, **found.view()}
    return json_response({"data": {**body, "summary": found.summary()}})


@router.get("/data/diff")
async def latest(request: Request, principal: Principal = OPERATOR) -> Response:
    svc = services(request)
    found = {
        name: {**d.view(), "summary": d.summary()}
        for name, d in svc.data.reported.items()
        if principal.can_use(name)
    }
    return json_response({"data": found})
