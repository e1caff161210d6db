"""Features admin API: load rows into the built-in feature table; export training rows.

``POST /v1/admin/features/{table}?entity_key=id`` takes a CSV, JSONL or Parquet file (one
row per entity; an optional ``valid_from`` column, ISO time, says from when the values
hold) and appends it. ``POST /v1/admin/features/{table}/export?as_of=TIME`` takes a file
of entities (``entity_key`` column, and optionally a per-row ``as_of`` column) and answers
JSONL: each entity's row with the features that held at that moment — the values serving
read then (point-in-time correct). With ``features.source: feast`` the export reads Feast's
``get_historical_features`` (what its online store served) and loading is Feast's own
(``feast materialize``): the load route answers 409.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bastion.api.authn import authenticated
from bastion.api.context import services
from bastion.api.known import require_known
from bastion.api.render import json_response
from bastion.errors import Conflict, InvalidRequest
from bastion.features import BuiltinFeatures, FeatureSource
from bastion.jobs.formats import read_chunks, sniff_format
from bastion.security import Principal, require_roles

router = APIRouter(prefix="/v1/admin", tags=["features"])
_TABLE = r"^[a-z0-9][a-z0-9._-]{0,62}$"
_CHUNK = 1000  # entities per as_of_many (Feast: per point-in-time join)


async def _operator(request: Request) -> Principal:
    principal = await authenticated(request)
    require_roles(principal, "operator")
    return principal


OPERATOR = Depends(_operator)


def _when(raw: Any, what: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise InvalidRequest(f"{what}: {raw!r} is not an ISO time") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _rows(request: Request, filename: str) -> list[Any]:
    """The uploaded file's rows (feature files are small next to batch inputs)."""
    fmt = sniff_format(filename)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload.{fmt}"
        with path.open("wb") as fh:
            async for block in request.stream():
                await asyncio.to_thread(fh.write, block)
        chunks = await asyncio.to_thread(lambda: list(read_chunks(path, fmt, 10_000)))
    return [v for c in chunks for i, v in enumerate(c.values) if c.first_row + i not in c.errors]


def _features(request: Request) -> BuiltinFeatures:
    svc = services(request)
    if svc.settings.features.source != "builtin":
        raise Conflict(
            f"features.source is {svc.settings.features.source}: load features through it "
            "(for Feast: `feast materialize`), not into the built-in table"
        )
    return svc.features


def _source(request: Request) -> FeatureSource:
    return services(request).feature_source  # the built-in table, or Feast


@router.post("/features/{table}", status_code=201)
async def load(
    table: str,
    request: Request,
    entity_key: str,
    filename: str = "features.csv",
    principal: Principal = OPERATOR,
) -> Response:
    rows = []
    for n, value in enumerate(await _rows(request, filename)):
        if not isinstance(value, dict) or value.get(entity_key) is None:
            raise InvalidRequest(f"row {n}: no '{entity_key}'; every row names its entity")
        vals = {k: v for k, v in value.items() if k not in (entity_key, "valid_from")}
        at = _when(value["valid_from"], f"row {n}: valid_from") if value.get("valid_from") else None
        rows.append((str(value[entity_key]), vals, at))
    loaded = await _features(request).load(table, rows, principal.tenant)
    svc = services(request)
    if svc.audit is not None:
        await svc.audit.admin(principal, "features.loaded", table, {"rows": loaded})
    return json_response({"data": {"table": table, "rows": loaded}}, 201)


@router.post("/features/{table}/export")
async def export(
    table: str,
    request: Request,
    entity_key: str,
    as_of: str | None = None,
    filename: str = "entities.csv",
    deployment: str | None = None,
    principal: Principal = OPERATOR,
) -> Response:
    """With ``deployment``, each row is also prepared by its transform (as serving does)."""
    default = _when(as_of, "as_of") if as_of else datetime.now(UTC)
    svc = services(request)
    if deployment is not None:  # a typo would export the rows untransformed
        await require_known(svc, deployment, principal)
    transform = svc.data.transforms.get(deployment) if deployment else None
    entities = await _rows(request, filename)
    features = _source(request)

    named = [v for v in entities if isinstance(v, dict) and v.get(entity_key) is not None]
    moments = [_when(v["as_of"], "as_of") if v.get("as_of") else default for v in named]

    async def lines() -> AsyncIterator[bytes]:
        for start in range(0, len(named), _CHUNK):  # one point-in-time join per chunk (Feast)
            part = list(zip(named[start : start + _CHUNK], moments[start : start + _CHUNK],
                            strict=True))  # fmt: skip
            asks = [(str(value[entity_key]), at) for value, at in part]
            for (value, at), found in zip(part, await features.as_of_many(table, asks),
                                          strict=True):  # fmt: skip
                row = {k: v for k, v in value.items() if k not in (entity_key, "as_of")}
                row.update(found or {})
                if transform is not None:  # the serving path's preprocessing, the same one
                    row = transform(row, f"entity {value[entity_key]!r}")
                out = {entity_key: value[entity_key], **row, "as_of": at.isoformat()}
                yield orjson.dumps(out) + b"\n"

    return StreamingResponse(lines(), media_type="application/jsonl")
