"""Finding requests (audit interaction records, newest first, keyset pages) and one request's
whole story: its audit record, usage and cost, logged predictions, review items."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from bastion.console.sql import PAGE_SIZE, tenant_of
from bastion.errors import NotFound
from bastion.observability.audit import AuditRecord
from bastion.security import Principal
from bastion.services import Services
from bastion.store.audit_tables import AuditRecordRow as A
from bastion.store.monitoring_tables import PredictionRow as P
from bastion.store.review_tables import ReviewItemRow as R
from bastion.store.usage_tables import UsageRow as U


@dataclass(frozen=True, slots=True)
class Search:
    request_id: str | None = None
    deployment: str | None = None
    status: str | None = None  # "ok" | "error"
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # the seq the page starts below


async def search(
    svc: Services, principal: Principal, q: Search, size: int = PAGE_SIZE
) -> tuple[list[AuditRecord], int | None]:
    """One page of interaction records and the ``before`` of the next page (None: last)."""
    query = select(A).where(A.kind == "interaction")
    tenant = tenant_of(principal)
    if tenant is not None:
        query = query.where(A.tenant == tenant)
    for column, value in (
        (A.request_id, q.request_id),
        (A.deployment, q.deployment),
        (A.status, q.status),
    ):
        if value:
            query = query.where(column == value)
    if q.since is not None:
        query = query.where(A.at >= q.since)
    if q.until is not None:
        query = query.where(A.at < q.until)
    if q.before is not None:
        query = query.where(A.seq < q.before)
    query = query.order_by(A.seq.desc()).limit(size + 1)
    async with svc.db.session() as session:
        rows = list(await session.scalars(query))
    records = [AuditRecord.from_row(r) for r in rows[:size]]
    more = len(rows) > size
    return records, records[-1].seq if more and records else None


@dataclass(slots=True)
class RequestStory:
    request_id: str
    audit: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cost_usd(self) -> float | None:
        if self.usage:
            return float(sum(u["cost_usd"] for u in self.usage))
        costs = [a["cost"] for a in self.audit if a.get("cost") is not None]
        return float(sum(costs)) if costs else None


async def story(svc: Services, principal: Principal, request_id: str) -> RequestStory:
    """Everything stored about one request within the viewer's tenant; NotFound otherwise
    (another tenant's request is not disclosed)."""
    tenant = tenant_of(principal)
    out = RequestStory(request_id)
    audit = select(A).where(A.request_id == request_id).order_by(A.seq).limit(100)
    usage = select(U).where(U.request_id == request_id).order_by(U.id).limit(100)
    logged = select(P).where(P.request_id == request_id).order_by(P.item_index).limit(100)
    reviews = select(R).where(R.request_id == request_id).order_by(R.item_index).limit(100)
    if tenant is not None:
        audit = audit.where(A.tenant == tenant)
        usage = usage.where(U.tenant == tenant)
        logged = logged.where(P.tenant == tenant)
        reviews = reviews.where(R.tenant == tenant)
    async with svc.db.session() as session:
        out.audit = [_audit(AuditRecord.from_row(r)) for r in await session.scalars(audit)]
        out.usage = [_usage(r) for r in await session.scalars(usage)]
        out.predictions = [_prediction(svc, r) for r in await session.scalars(logged)]
        out.reviews = [_review(r) for r in await session.scalars(reviews)]
    if not (out.audit or out.usage or out.predictions or out.reviews):
        raise NotFound(f"no request '{request_id}' visible to you")
    return out


def _audit(record: AuditRecord) -> dict[str, Any]:
    shown = record.to_json()
    shown.pop("payload", None)  # encrypted, and never opened here
    return shown


def _usage(row: Any) -> dict[str, Any]:
    return {
        "at": row.at,
        "deployment": row.deployment,
        "model": row.model,
        "api": row.api,
        "key_id": row.key_id,
        "team": row.team,
        "tenant": row.tenant,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "tokens": row.tokens,
        "cached": row.cached,
        "cost_usd": row.cost_micros / 1_000_000,
    }


def _prediction(svc: Services, row: Any) -> dict[str, Any]:
    """The logged payload as stored: scrubbed text as is; encrypted payloads are not opened
    here; a plain payload is scrubbed before it is shown."""
    payload: Any = None
    if row.mode == "scrubbed":
        payload = _json(row.payload)
    elif row.mode == "plain":
        from bastion.guards.pii import PiiDetector

        payload = PiiDetector().scrub(_json(row.payload))
    return {
        "index": row.item_index,
        "at": row.at,
        "deployment": row.deployment,
        "version": row.version,
        "confidence": row.confidence,
        "label": row.label,
        "value": row.value,
        "segments": row.segments,
        "mode": row.mode,
        "payload": payload,
    }


def _json(blob: bytes | None) -> Any:
    if not blob:
        return None
    try:
        return orjson.loads(blob)
    except orjson.JSONDecodeError:
        return json.loads(blob.decode("utf-8", "replace"))


def _review(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "index": row.item_index,
        "status": row.status,
        "triggers": list(row.triggers),
        "confidence": row.confidence,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "created_at": row.created_at,
    }
