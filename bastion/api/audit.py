"""Admin API of the audit log: list records (``GET /v1/admin/audit``) and verify the chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.api.params import MAX_INT64
from bastion.api.render import json_response
from bastion.errors import Forbidden, InvalidRequest, NotFound
from bastion.observability.audit import AuditLog, AuditQuery, verify_log
from bastion.security import Principal

router = APIRouter(prefix="/v1/admin/audit", tags=["audit"])


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_seq: int = Field(1, ge=1, le=MAX_INT64)
    anchor: str | None = Field(None, description="SEQ:HASH of a head recorded earlier")
    payloads: bool = Field(False, description="also open every stored payload")


async def _audit(request: Request) -> tuple[AuditLog, Principal]:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    if "admin" not in principal.roles:  # later: other roles, scoped to their own tenant
        raise Forbidden("the audit log needs the admin role")
    audit = svc.audit
    if audit is None:
        raise NotFound("the audit log is disabled on this server (audit.enabled: false)")
    return audit, principal


@router.get("")
async def list_records(
    request: Request,
    from_seq: int = Query(1, ge=1, le=MAX_INT64),
    since: datetime | None = None,
    kind: Literal["interaction", "admin", "action"] | None = None,
    action: str | None = None,
    deployment: str | None = None,
    tenant: str | None = None,
    request_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    payloads: bool = Query(False, description="include the encrypted payloads (base64)"),
) -> Response:
    """Records in chain order from ``from_seq``, filtered; ``next_from_seq`` pages on."""
    audit, _ = await _audit(request)
    query = AuditQuery(
        from_seq=from_seq,
        since=since,
        kind=kind,
        action=action,
        deployment=deployment,
        tenant=tenant,
        request_id=request_id,
        limit=limit,
    )
    records = await audit.store.query(query)
    more = len(records) == limit
    return json_response(
        {
            "data": [_shown(r.to_json(), payloads) for r in records],
            "next_from_seq": records[-1].seq + 1 if more else None,
        }
    )


@router.post("/verify")
async def verify(request: Request, body: VerifyBody | None = None) -> Response:
    """Walk the chain; ``ok: false`` names the first broken record and what is wrong."""
    audit, _ = await _audit(request)
    body = body or VerifyBody()
    anchor = None
    if body.anchor is not None:
        seq, sep, digest = body.anchor.partition(":")
        well_formed = seq.isascii() and seq.isdigit() and int(seq) <= MAX_INT64
        if not sep or not well_formed or len(digest) != 64:
            raise InvalidRequest(
                "anchor: must look like SEQ:HASH (64 hex digits)", details={"field": "anchor"}
            )
        anchor = (int(seq), digest.lower())
    if body.payloads and audit.encryptor is None:
        raise InvalidRequest(
            "payloads: no encryption key is configured on this server, so there are no "
            "payloads to open",
            details={"field": "payloads"},
        )
    encryptor = audit.encryptor if body.payloads else None
    report = await verify_log(
        audit.store, from_seq=body.from_seq, anchor=anchor, encryptor=encryptor
    )
    return json_response(report.to_json())


def _shown(record: dict[str, Any], payloads: bool) -> dict[str, Any]:
    """Without ``payloads=true`` the (large, encrypted) payload is left out; ``payload_key``
    still tells whether there is one."""
    if not payloads:
        del record["payload"]
    return record


@router.get("/export")
async def export(
    request: Request,
    from_seq: int = Query(1, ge=1, le=MAX_INT64),
    since: datetime | None = None,
    decrypt: bool = Query(False, description="add each payload opened (payload_plain)"),
) -> Response:
    """The log as JSON lines in chain order, every field and hash (verifiable on its own
    with ``bastion audit verify --file``), streamed."""
    from starlette.responses import StreamingResponse

    from bastion.observability.audit.export import record_json

    audit, _ = await _audit(request)
    if decrypt and audit.encryptor is None:
        raise InvalidRequest(
            "decrypt: no encryption key is configured on this server, so there are no "
            "payloads to open",
            details={"field": "decrypt"},
        )
    encryptor = audit.encryptor if decrypt else None
    moment = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since

    async def lines() -> AsyncIterator[bytes]:
        async for record in audit.store.scan(from_seq):
            if moment is None or record.at >= moment:
                yield orjson.dumps(record_json(record, encryptor)) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


class RotateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch: int = Field(500, ge=1, le=100_000, description="records per transaction")


@router.post("/rotate-key")
async def rotate_key(request: Request, body: RotateBody | None = None) -> Response:
    """Re-encrypt stored payloads under this server's first (newest) key; safe while serving."""
    from bastion.observability.audit import rotate_payloads

    audit, principal = await _audit(request)
    if audit.encryptor is None:
        raise InvalidRequest(
            "rotate-key needs the encryption keys: this server has none configured "
            "(BASTION_ENCRYPTION_KEYS or BASTION_ENCRYPTION_KEY_FILE)"
        )
    report = await rotate_payloads(audit.store, audit.encryptor, batch=(body or RotateBody()).batch)
    details = {"reencrypted": report.reencrypted, "active_key": report.active_key}
    await audit.admin(principal, "audit.payloads_rotated", "audit", details)
    return json_response(details)
