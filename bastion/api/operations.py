"""Operations API: capacity for autoscalers, and what `bastion check` reads and runs —
the server's facts, the rollback drill, a test notification, operation records."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import caller
from bastion.api.owned import changeable_model
from bastion.api.render import json_response
from bastion.observability.capacity import recommend
from bastion.readiness.drills import rollback_drill, test_notification
from bastion.readiness.facts import facts
from bastion.store.operations_tables import SqlOperationRecords

router = APIRouter(prefix="/v1/admin", tags=["operations"])

RecordKind = Literal["load_test", "restore", "backup"]
MAX_DETAILS_BYTES = 64 * 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DrillBody(_Body):
    alias: str = "production"


class RecordBody(_Body):
    kind: RecordKind
    subject: str | None = Field(None, max_length=200, description="deployment, backup id, …")
    passed: bool
    summary: str = Field("", max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("details")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(orjson.dumps(value)) > MAX_DETAILS_BYTES:
            raise ValueError(f"details: at most {MAX_DETAILS_BYTES} bytes of JSON")
        return value


async def _operators_first(request: Request) -> None:
    """As a route dependency: the role is checked before the body is read (403 before 422)."""
    await caller(request, "operator")


OPERATORS_FIRST = [Depends(_operators_first)]


@router.get("/capacity")
async def capacity(
    request: Request,
    replicas: int = Query(1, ge=1, le=10_000, description="replicas running now"),
) -> Response:
    """This worker's saturation, queue and throughput, and the replica count the formula in
    docs/scaling.md recommends for ``replicas`` running now."""
    svc, _ = await caller(request, "operator")
    meter = svc.capacity
    snap = meter.snapshot()
    return json_response(
        {
            **snap.to_dict(),
            "replicas": replicas,
            "recommended_replicas": recommend(snap, meter.settings, replicas),
            "settings": meter.settings.model_dump(),
            "formula": "ceil(replicas * saturation / target_saturation), +1 when the queue "
            "p95 exceeds max_queue_p95_s, within [min_replicas, max_replicas]",
        }
    )


@router.get("/readiness/facts")
async def readiness_facts(request: Request) -> Response:
    """What is configured and served (no secrets), for `bastion check`."""
    svc, _ = await caller(request)
    return json_response(await facts(svc))


@router.post("/models/{name}/rollback/drill", dependencies=OPERATORS_FIRST)
async def drill_rollback(name: str, body: DrillBody, request: Request) -> Response:
    """Really roll ``alias`` back one version, see it served, and move it forward again."""
    svc, principal = await caller(request, "operator")
    await changeable_model(svc, principal, name)  # another tenant's model: 404, as absent
    return json_response(await rollback_drill(svc, principal, name, body.alias))


@router.post("/alerts/test")
async def alerts_test(request: Request, webhook: str | None = None) -> Response:
    """Send a test notification to every configured webhook (or the one named) and report
    each delivery; ``ok`` only when every one took it (operators; nothing is stored)."""
    svc, principal = await caller(request, "operator")
    results = await test_notification(svc, principal, webhook)
    if svc.audit is not None:
        await svc.audit.admin(principal, "alert.test_sent", "webhooks", {"results": results})
    return json_response({"ok": all(r["delivered"] for r in results), "data": results})


@router.post("/operations/records", status_code=201, dependencies=OPERATORS_FIRST)
async def add_record(body: RecordBody, request: Request) -> Response:
    """Record a load test, backup or restore (`bastion bench` and `bastion restore` do)."""
    svc, principal = await caller(request, "operator")
    record = await SqlOperationRecords(svc.db).add(
        body.kind,
        subject=body.subject,
        tenant=None if principal.is_admin else principal.tenant,
        passed=body.passed,
        summary=body.summary,
        details=body.details,
        actor=principal.name,
    )
    return json_response(record, 201)


@router.get("/operations/records")
async def list_records(
    request: Request,
    kind: RecordKind | None = None,
    subject: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Response:
    """Newest first; a non-admin sees its tenant's records and the shared ones."""
    svc, principal = await caller(request, "operator")
    tenants = None if principal.is_admin else (principal.tenant, None)
    data = await SqlOperationRecords(svc.db).list(
        kind=kind, subject=subject, tenants=tenants, limit=limit
    )
    return json_response({"data": data})
