"""Admin API for files: artifacts, eval sets and training data uploaded as streams, and a
registry-wide artifact check.

Each upload is ``application/octet-stream`` with its fields in the query (JSON fields as JSON
text), written to disk as it arrives under a size cap from settings, then handed to the
existing register-from-file path. Roles as for the neighbouring JSON routes: registering a
model version is for admins; eval sets and drift profiles for operators.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.admin import audit_change, register_owner
from bastion.api.authn import authenticated, caller
from bastion.api.owned import changeable_model
from bastion.api.params import PathId
from bastion.api.render import json_response
from bastion.api.uploads import json_field, streamed_upload
from bastion.backends.entry_check import check_source_entry_point
from bastion.backends.factories import check_flavor
from bastion.errors import InvalidRequest
from bastion.security import require_roles
from bastion.services import Services

router = APIRouter(prefix="/v1/admin", tags=["admin"])


async def _admins_first(request: Request) -> None:
    """As a route dependency: the role is checked before the query is (403 before 422)."""
    require_roles(await authenticated(request))


ADMINS_FIRST = [Depends(_admins_first)]


async def _model_operators_first(request: Request) -> None:
    """As a route dependency, before the query is checked: the operator role, then the model
    in the path is one the caller may change (another tenant's answers 404, as absent)."""
    svc, principal = await caller(request, "operator")
    await changeable_model(svc, principal, request.path_params["name"])


MODEL_OPERATORS_FIRST = [Depends(_model_operators_first)]


def _uploads(svc: Services) -> Path:
    return svc.settings.data_dir / "uploads"


@router.post("/models/{name}/versions/upload", status_code=201, dependencies=ADMINS_FIRST)
async def upload_version(
    name: str,
    request: Request,
    flavor: str = Query(..., description="onnx | sklearn | python | embedding | …"),
    filename: str | None = Query(None, max_length=255),
    signature: str | None = Query(None, description="JSON: input_schema, output_schema, …"),
    metrics: str | None = Query(None, description="JSON object of numbers"),
    params: str | None = Query(None, description="JSON object"),
    training_data_hash: str | None = Query(None, max_length=128),
    description: str = Query("", max_length=2000),
    tenant: str | None = Query(None, max_length=100, description="a new model's owner"),
    shared: bool = Query(False, description="a new model shared by every tenant"),
) -> Response:
    """Register the next version of ``name`` from the streamed artifact in the body (admins;
    capped by ``limits.max_admin_body_bytes``). A new model belongs to the caller's tenant,
    the named ``tenant``, or nobody (``shared``); a new version keeps its model's owner."""
    svc, principal = await caller(request)
    owner = await register_owner(svc, principal, name, tenant, shared)
    chosen = check_flavor(flavor)
    sig, found_metrics, found_params = (
        json_field(signature, "signature"),
        json_field(metrics, "metrics"),
        json_field(params, "params"),
    )
    for field, value in (("signature", sig), ("metrics", found_metrics), ("params", found_params)):
        if value is not None and not isinstance(value, dict):
            raise InvalidRequest(f"{field}: must be a JSON object", details={"field": field})
    cap = svc.settings.limits.max_admin_body_bytes
    async with streamed_upload(
        request,
        _uploads(svc),
        filename=filename,
        max_bytes=cap,
        limit_name="limits.max_admin_body_bytes",
    ) as path:
        if chosen == "python":  # parsed, not run
            check_source_entry_point(found_params, path)
        mv = await svc.registry.register(
            name,
            flavor=chosen,
            artifact=path,
            artifact_name=path.name,
            signature=sig,
            metrics={k: float(v) for k, v in (found_metrics or {}).items()},
            params=found_params,
            training_data_hash=training_data_hash,
            description=description,
            created_by=principal.name,
            tenant=owner,
            created_by_key=principal.key_id,
        )
    details = {"flavor": mv.flavor, "sha256": mv.artifact_sha256}
    await audit_change(svc, principal, "model.registered", f"{name}@{mv.version}", **details)
    return json_response(mv, 201)


@router.post("/models/verify")
async def verify_all(request: Request) -> Response:
    """Re-hash every stored artifact; ``ok: false`` when any differs from its sha256."""
    svc, principal = await caller(request, "operator")
    owners = await svc.registry.owners()
    results = [
        r
        for r in await svc.registry.verify(None)
        if svc.ownership.visible(principal, owners.get(r.name))  # the caller's and shared
    ]
    return json_response({"ok": all(r.ok for r in results), "data": results})


@router.post("/eval/sets/upload", status_code=201)
async def upload_set(
    request: Request,
    name: str = Query(..., min_length=1, max_length=63),
    format: str | None = Query(None, description="jsonl | csv | parquet (default: sniffed)"),
    filename: str | None = Query(None, max_length=255),
    description: str = Query("", max_length=2000),
) -> Response:
    """Validate and store the streamed eval set (operators; capped by
    ``evaluation.max_set_bytes``); the same content again answers 200 with its version."""
    svc, principal = await caller(request, "operator")
    evaluation = svc.evaluation
    cap = evaluation.settings.max_set_bytes
    async with streamed_upload(
        request,
        _uploads(svc),
        filename=filename,
        max_bytes=cap,
        limit_name="evaluation.max_set_bytes",
    ) as path:
        content = await asyncio.to_thread(path.read_bytes)  # bounded by the cap above
        found, created = await evaluation.sets.register(
            name,
            content,
            filename=filename,
            fmt=format,
            description=description,
            created_by=principal.name,
        )
    if created:
        details = {"sha256": found.sha256, "rows": found.rows, "format": found.format}
        await audit_change(svc, principal, "eval_set.registered", found.ref, **details)
    return json_response({"data": found, "created": created}, 201 if created else 200)


@router.post(
    "/models/{name}/versions/{version}/drift-profile",
    status_code=201,
    dependencies=MODEL_OPERATORS_FIRST,
)
async def upload_profile(
    name: str,
    version: PathId,
    request: Request,
    filename: str = Query(..., max_length=255, description="its suffix: .csv, .parquet, .jsonl"),
    label_column: str | None = Query(None, max_length=200),
) -> Response:
    """Store the version's drift reference, built from the streamed training data (operators;
    capped by ``limits.max_admin_body_bytes``)."""
    from bastion.monitoring.references import ReferenceStore, read_training_data, split_label

    svc, principal = await caller(request, "operator")
    record = await svc.registry.get_version(name, version)  # NotFound names the versions
    cap = svc.settings.limits.max_admin_body_bytes
    async with streamed_upload(
        request,
        _uploads(svc),
        filename=filename,
        max_bytes=cap,
        limit_name="limits.max_admin_body_bytes",
    ) as path:
        rows = await asyncio.to_thread(read_training_data, path)
    items, _ = split_label(rows, label_column)
    if not items:
        raise InvalidRequest(f"{filename} holds no rows to profile", details={"field": "body"})
    names = (record.signature or {}).get("feature_names")
    built = await asyncio.to_thread(
        _profile, svc, items, names if isinstance(names, list) else None
    )
    await ReferenceStore(svc.db).put(
        name, version, built, source="training", created_by=principal.name
    )
    await audit_change(svc, principal, "drift.profile_stored", f"{name}@{version}", rows=len(items))
    return json_response({"model": name, "version": version, "rows": len(items)}, 201)


def _profile(svc: Services, items: list[Any], names: list[str] | None) -> Any:
    from bastion.monitoring.references import profile_items

    texts = any(isinstance(i, str) for i in items)
    encoder = svc.resources.text_encoder if texts else None
    return profile_items(items, feature_names=names, encoder=encoder)
