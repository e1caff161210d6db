"""Batch jobs admin API: create from an uploaded file, list, status (progress), cancel, files.

``POST /v1/admin/jobs`` takes the input file's bytes as the request body
(``application/octet-stream``, streamed to disk) and the job's fields as query parameters.
Operators (and admins) run jobs; a job belongs to the caller's tenant and another tenant's
job answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.params import QueryId
from bastion.api.render import json_response
from bastion.errors import InvalidRequest, ModelNotReady
from bastion.jobs import JobService
from bastion.security import Principal, require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["jobs"])
_MEDIA = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/octet-stream"}


async def _operator(request: Request) -> Principal:
    principal = await authenticated(request)
    require_roles(principal, "operator")
    return principal


OPERATOR = Depends(_operator)


def _jobs(request: Request) -> tuple[Services, JobService]:
    svc = services(request)
    if svc.jobs is None:
        raise ModelNotReady("batch jobs are switched off in this server (jobs.enabled)")
    return svc, svc.jobs


@router.post("/jobs", status_code=201)
async def create_job(
    request: Request,
    deployment: str,
    filename: str = "input",
    format: str | None = None,
    output_format: str = "parquet",
    engine: str = "local",
    version: QueryId = None,
    kind: str = "batch",
    rows_per_s: float | None = None,
    principal: Principal = OPERATOR,
) -> Response:
    """Store the uploaded input (CSV, JSONL or Parquet) and queue a batch job over it.

    ``kind=backfill`` (with ``version``): the file's rows are eval-set shaped (``input``,
    ``answered``, ``expected``, ``slices``), scored at ``rows_per_s`` at most, and compared
    with what was answered (``GET /v1/admin/jobs/{id}/report``)."""
    svc, jobs = _jobs(request)
    if kind not in ("batch", "backfill"):
        raise InvalidRequest("kind: batch or backfill", details={"field": "kind"})
    if kind == "backfill" and version is None:
        raise InvalidRequest(
            "version: a backfill names the version it runs", details={"field": "version"}
        )
    options = {"input_field": "input", "rows_per_s": rows_per_s} if kind == "backfill" else None
    job = await jobs.create(
        principal,
        request.stream(),
        deployment=deployment,
        filename=filename,
        input_format=format,
        output_format=output_format,
        engine=engine,
        version=version,
        kind=kind,
        options=options,
    )
    if svc.audit is not None:
        details = {"deployment": deployment, "rows": job.rows_total, "engine": engine}
        await svc.audit.admin(principal, "job.created", job.id, details)
    return json_response({"data": job.view()}, 201)


@router.get("/jobs")
async def list_jobs(
    request: Request, limit: int = 100, principal: Principal = OPERATOR
) -> Response:
    _, jobs = _jobs(request)
    found = await jobs.list_jobs(principal, max(1, min(limit, 1000)))
    return json_response({"data": [j.view() for j in found]})


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, request: Request, principal: Principal = OPERATOR) -> Response:
    _, jobs = _jobs(request)
    return json_response({"data": (await jobs.get(principal, job_id)).view()})


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(job_id: str, request: Request, principal: Principal = OPERATOR) -> Response:
    svc, jobs = _jobs(request)
    job = await jobs.cancel(principal, job_id)
    if svc.audit is not None:
        await svc.audit.admin(principal, "job.cancelled", job.id, {"status": job.status})
    return json_response({"data": job.view()})


@router.get("/jobs/{job_id}/output")
async def job_output(job_id: str, request: Request, principal: Principal = OPERATOR) -> Response:
    """The scored rows (a job that succeeded): ``row``, ``verdict``, the answer (typed columns
    for a classifier's Parquet output, else ``output`` as JSON), ``confidence``: docs/jobs.md."""
    _, jobs = _jobs(request)
    job = await jobs.get(principal, job_id)
    path = jobs.output(job, "output")
    return FileResponse(path, media_type=_MEDIA[job.output_format], filename=path.name)


@router.get("/jobs/{job_id}/errors")
async def job_errors(job_id: str, request: Request, principal: Principal = OPERATOR) -> Response:
    """The rows that got no answer, as JSONL: ``row``, ``code``, ``message`` (and ``rule``)."""
    _, jobs = _jobs(request)
    job = await jobs.get(principal, job_id)
    return FileResponse(jobs.output(job, "errors"), media_type=_MEDIA["jsonl"])
