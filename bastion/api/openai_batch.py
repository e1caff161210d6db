"""The OpenAI Files and Batch API for LLM groups, in OpenAI's shapes (the SDK works unchanged).

``POST /v1/files`` (multipart, ``purpose=batch``, a JSONL file), ``GET /v1/files/{id}``,
``GET /v1/files/{id}/content``; ``POST /v1/batches``, ``GET /v1/batches/{id}``,
``POST /v1/batches/{id}/cancel``. Files and batches belong to the caller's tenant; another
tenant's id is a 404. ``Idempotency-Key`` on a batch create returns the batch this key
created with it instead of starting a second one. Each line of a batch runs through the
pipeline like an HTTP call to its endpoint (``line_caller``), charged once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from bastion.api.accounting import llm_request
from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.render import error_body, json_response
from bastion.contracts.openai import OpenAIRequestCheck
from bastion.errors import BastionError, InvalidRequest, ModelNotReady, NotFound
from bastion.jobs.batches import BatchService, LineCaller, LineResult
from bastion.jobs.files import file_view
from bastion.pipeline import Call, Next
from bastion.pipeline.call import LlmKind
from bastion.pipeline.ending import end_call
from bastion.security import Principal
from bastion.services import Services
from bastion.settings.governance import GovernanceSettings

router = APIRouter(prefix="/v1", tags=["openai batch"])
_KINDS: dict[str, LlmKind] = {"/v1/chat/completions": "chat", "/v1/completions": "completions",
                               "/v1/embeddings": "embeddings"}  # fmt: skip


def line_caller(
    pipeline: Next,
    settings: GovernanceSettings,
    known: Callable[[str], bool],
    check: OpenAIRequestCheck,
) -> LineCaller:
    """Run one batch line as a call to its endpoint (never streamed); ``check`` refuses a
    line whose body breaks OpenAI's request (as the endpoint itself would) before it costs."""

    async def call_line(
        principal: Principal, request_id: str, endpoint: str, body: dict[str, Any]
    ) -> LineResult:
        kind = _KINDS[endpoint]
        call = Call(request_id=request_id, deployment=str(body.get("model") or ""),
                    api=f"openai.{kind}", inputs=[body], batched=False,
                    started_at=time.perf_counter(), principal=principal)  # fmt: skip
        try:
            check.check(kind, body)
            if body.get("stream"):
                raise InvalidRequest("stream: a batch line cannot be streamed")
            if not known(call.deployment):
                raise NotFound(f"no LLM model group named '{call.deployment}'")
            call.llm = llm_request(body, kind, settings)
            result = await pipeline(call)
        except BastionError as exc:
            await end_call(call, None, exc)
            status = exc.status_on(call.api)
            response = {"status_code": status, "request_id": request_id,
                        "body": error_body(exc, request_id)}  # fmt: skip
            return False, response, 0
        await end_call(call, result, None)
        cost = call.cost_usd or 0.0
        response = {"status_code": 200, "request_id": request_id,
                    "body": result.predictions[0].output}  # fmt: skip
        return True, response, round(cost * 1_000_000)

    return call_line


def _batches(request: Request) -> tuple[Services, BatchService]:
    svc = services(request)
    if svc.batches is None:
        raise ModelNotReady("the batch API is switched off in this server (jobs.enabled)")
    return svc, svc.batches


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while block := await upload.read(1 << 20):
        yield block


@router.post("/files")
async def create_file(request: Request) -> Response:
    """Upload a JSONL file of batch requests (multipart: ``file`` and ``purpose``)."""
    principal = await authenticated(request)
    _, batches = _batches(request)
    async with request.form(max_files=1, max_fields=10) as form:
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("file: a file part is required", details={"field": "file"})
        if not isinstance(purpose, str):
            raise InvalidRequest("purpose: required", details={"field": "purpose"})
        row = await batches.files.upload(
            principal, purpose, upload.filename or "upload.jsonl", _upload_chunks(upload)
        )
    return json_response(file_view(row))


@router.get("/files/{file_id}")
async def get_file(file_id: str, request: Request) -> Response:
    principal = await authenticated(request)
    _, batches = _batches(request)
    return json_response(file_view(await batches.files.get(principal, file_id)))


@router.get("/files/{file_id}/content")
async def file_content(file_id: str, request: Request) -> Response:
    principal = await authenticated(request)
    _, batches = _batches(request)
    row = await batches.files.get(principal, file_id)
    return FileResponse(batches.files.path(row.id), media_type="application/jsonl")


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input_file_id: str = Field(min_length=1, max_length=40)
    endpoint: str
    completion_window: str = "24h"
    metadata: dict[str, str] | None = None


@router.post("/batches")
async def create_batch(request: Request) -> Response:
    principal = await authenticated(request)
    _, batches = _batches(request)
    try:
        body = BatchBody.model_validate_json(await request.body())
    except ValueError as exc:
        raise InvalidRequest(f"invalid batch request: {exc}") from exc
    idem = request.headers.get("idempotency-key")
    batch = await batches.create(principal, body.input_file_id, body.endpoint,
                                 body.completion_window, body.metadata, idem)  # fmt: skip
    return json_response(batch)


@router.get("/batches/{batch_id}")
async def get_batch(batch_id: str, request: Request) -> Response:
    from bastion.jobs.batch_store import batch_view

    principal = await authenticated(request)
    _, batches = _batches(request)
    return json_response(batch_view(await batches.store.get(principal, batch_id)))


@router.post("/batches/{batch_id}/cancel")
async def cancel_batch(batch_id: str, request: Request) -> Response:
    principal = await authenticated(request)
    _, batches = _batches(request)
    return json_response(await batches.cancel(principal, batch_id))
