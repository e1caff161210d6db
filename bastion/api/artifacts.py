"""Admin API of the artifact store: where artifacts live, and moving them to another store
(``bastion artifacts …``). Admins only: a migration touches every tenant's artifacts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.render import json_response
from bastion.errors import ConfigError, InvalidRequest
from bastion.registry.blobs import open_blob_store
from bastion.registry.migration import migrate, referenced
from bastion.security import require_roles

router = APIRouter(prefix="/v1/admin/artifacts", tags=["admin"])


class MigrateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(
        ...,
        max_length=2000,
        pattern=r"^(database|s3://.+)$",
        description="`database` or s3://BUCKET/PREFIX?endpoint_url=…&region=…",
    )


@router.get("")
async def describe(request: Request) -> Response:
    """The store in force on this replica and how many artifacts the registry names."""
    svc = services(request)
    require_roles(await authenticated(request))
    count = len(await referenced(svc.db))
    return json_response({"store": svc.artifacts.store_name, "artifacts": count})


@router.post("/migrate")
async def migrate_store(request: Request, body: MigrateBody) -> Response:
    """Copy every artifact the registry names into ``to``, each checked where it landed;
    then set ``artifacts.url`` to it on every replica. The source keeps its copies."""
    svc = services(request)
    principal = await authenticated(request)
    require_roles(principal)
    try:
        target = open_blob_store(body.to, svc.db)
    except ConfigError as exc:
        raise InvalidRequest(exc.message, details={"field": "to"}) from exc
    if target is None or target.name == svc.artifacts.store_name:
        raise InvalidRequest(
            f"the artifacts already live in {svc.artifacts.store_name}; name another store "
            "(database or s3://BUCKET/PREFIX)",
            details={"field": "to"},
        )
    try:
        report = await migrate(svc.db, svc.artifacts, target)
    finally:
        await target.aclose()
    if svc.audit is not None:
        details = {"copied": report.copied, "present": report.present, "failed": len(report.failed)}
        await svc.audit.admin(principal, "artifacts.migrated", report.target, details)
    return json_response(
        {
            "ok": report.ok,
            "source": report.source,
            "target": report.target,
            "copied": report.copied,
            "present": report.present,
            "failed": report.failed,
        }
    )
