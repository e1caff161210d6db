"""Admin API of retrieval collections: create, index (streamed upload), list, delete, search.

``POST /v1/admin/rag/collections/{name}/documents?doc_id=…`` takes the document's bytes as
``application/octet-stream`` (``bastion rag index`` streams each file), written to disk as
they arrive under ``rag.max_document_bytes``. Operators create collections and index or
delete documents under ``/v1/admin/rag``; clients and operators search at
``POST /v1/rag/collections/{name}/search``. Another tenant's collection or document is
answered 404, as absent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.render import json_response
from bastion.api.uploads import json_field, streamed_upload
from bastion.errors import InvalidRequest, NotFound
from bastion.rag import RagService
from bastion.security import Principal, require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin/rag", tags=["rag"])
public = APIRouter(prefix="/v1/rag", tags=["rag"])  # searching is not administration


class NewCollection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63)
    policy: dict[str, Any] | None = Field(
        None, description='{"strategy": "size" | "heading", "size": 800, "overlap": 100}'
    )
    staleness_target_s: float | None = Field(None, gt=0)
    tenant: str | None = Field(None, max_length=100)
    shared: bool = False


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(5, ge=1, le=1000)
    filters: dict[str, Any] | None = None
    hybrid: bool = Field(False, description="fuse keyword (full-text) and vector rankings")


async def _caller(request: Request, *roles: str) -> tuple[RagService, Services, Principal]:
    svc = services(request)
    principal = await authenticated(request)
    require_roles(principal, *roles)
    if svc.rag is None:
        raise NotFound("retrieval collections are switched off here (rag.enabled: false)")
    return svc.rag, svc, principal


def _first(*roles: str) -> list[Any]:
    """Route dependencies run before the query and body are checked: the role, then the
    collection in the path is one the caller sees (403, then 404, before any 422)."""

    async def check(request: Request) -> None:
        rag, _, principal = await _caller(request, *roles)
        name = request.path_params.get("name")
        if name is not None:
            await rag.collection(principal, name)

    return [Depends(check)]


OPERATORS_FIRST = _first("operator")
READERS_FIRST = _first("operator")
SEARCHERS_FIRST = _first("client", "operator")


async def _audit(svc: Services, actor: Principal, action: str, target: str, **details: Any) -> None:
    if svc.audit is not None:
        await svc.audit.admin(actor, action, target, details)


@router.post("/collections", status_code=201, dependencies=OPERATORS_FIRST)
async def create_collection(body: NewCollection, request: Request) -> Response:
    """Create a collection with its chunking policy and optional staleness target."""
    rag, svc, principal = await _caller(request, "operator")
    made = await rag.create_collection(
        principal,
        body.name,
        policy=body.policy,
        staleness_target_s=body.staleness_target_s,
        tenant=body.tenant,
        shared=body.shared,
    )
    await _audit(svc, principal, "rag.collection_created", made.name, tenant=made.tenant)
    return json_response({"data": made}, 201)


@router.get("/collections")
async def list_collections(request: Request) -> Response:
    rag, _, principal = await _caller(request, "operator")
    return json_response({"data": await rag.collections(principal)})


@router.get("/collections/{name}", dependencies=READERS_FIRST)
async def get_collection(name: str, request: Request) -> Response:
    rag, _, principal = await _caller(request, "operator")
    return json_response({"data": await rag.collection(principal, name)})


@router.post("/collections/{name}/documents", status_code=201, dependencies=OPERATORS_FIRST)
async def index_document(
    name: str,
    request: Request,
    doc_id: str = Query(..., min_length=1, max_length=500),
    filename: str | None = Query(None, max_length=255, description="its suffix names the kind"),
    media_type: str | None = Query(None, description="text | markdown | html | pdf"),
    source: str = Query("", max_length=1000, description="where it came from (path, URL)"),
    metadata: str | None = Query(None, description="JSON object: filterable metadata"),
    acl: str | None = Query(None, description='JSON list: ["team:hr", "key:ID", "role:…"]'),
    shared: bool = Query(False, description="in a shared collection: for every tenant"),
) -> Response:
    """Index the streamed document: 201 indexed or replaced, 200 when unchanged."""
    rag, svc, principal = await _caller(request, "operator")
    meta, access = json_field(metadata, "metadata"), json_field(acl, "acl")
    if meta is not None and not isinstance(meta, dict):
        raise InvalidRequest("metadata: a JSON object", details={"field": "metadata"})
    if access is not None and not (
        isinstance(access, list) and all(isinstance(a, str) for a in access)
    ):
        raise InvalidRequest("acl: a JSON list of strings", details={"field": "acl"})
    async with streamed_upload(
        request,
        svc.settings.data_dir / "uploads",
        filename=filename or doc_id,
        max_bytes=rag.settings.max_document_bytes,
        limit_name="rag.max_document_bytes",
    ) as path:
        data = await asyncio.to_thread(path.read_bytes)  # bounded by the cap above
    done = await rag.index(
        principal,
        name,
        doc_id,
        data,
        filename=filename,
        media_type=media_type,
        source=source,
        metadata=meta,
        acl=access,
        shared=shared,
    )
    if done.outcome != "unchanged":
        await _audit(
            svc, principal, f"rag.document_{done.outcome}", f"{name}/{doc_id}",
            sha256=done.content_sha256, chunks=done.chunks,
        )  # fmt: skip
    return json_response({"data": done}, 200 if done.outcome == "unchanged" else 201)


@router.get("/collections/{name}/documents", dependencies=READERS_FIRST)
async def list_documents(
    name: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    after: str | None = Query(None, max_length=500, description="the last doc_id of a page"),
) -> Response:
    rag, _, principal = await _caller(request, "operator")
    docs = await rag.documents(principal, name, limit=limit, after=after)
    return json_response({"data": docs})


@router.delete("/collections/{name}/documents/{doc_id:path}", dependencies=OPERATORS_FIRST)
async def delete_document(name: str, doc_id: str, request: Request) -> Response:
    """Delete a document: from now on no search, on any replica, returns it."""
    rag, svc, principal = await _caller(request, "operator")
    await rag.delete(principal, name, doc_id)
    await _audit(svc, principal, "rag.document_deleted", f"{name}/{doc_id}")
    return json_response({"data": {"collection": name, "doc_id": doc_id, "deleted": True}})


@public.post("/collections/{name}/search", dependencies=SEARCHERS_FIRST)
async def search(name: str, body: SearchBody, request: Request) -> Response:
    """The ``k`` chunks nearest the query that the caller may read and the filters select."""
    rag, _, principal = await _caller(request, "client", "operator")
    found = await rag.retrieve(
        name, body.query, body.k, body.filters, principal, hybrid=body.hybrid
    )
    return json_response({"data": found})
