"""create_app(settings): the one composition root. Builds Services in the ASGI lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from bastion.api import admin, health, oip, openai_compat, predict
from bastion.api.middleware import BodyLimit, RequestContext
from bastion.api.render import (
    error_response,
    handle_bastion_error,
    handle_unexpected,
    request_id_of,
)
from bastion.backends.resources import Resources
from bastion.caching import MemoryCache, RedisCache, ResponseCache
from bastion.caching.semantic import SemanticIndex
from bastion.errors import BastionError, InvalidRequest, MalformedBody, NotFound
from bastion.gateway import Gateway
from bastion.observability.logging import configure_logging
from bastion.pipeline.assemble import assemble
from bastion.registry import ArtifactStore, Registry
from bastion.routing import DeploymentManager
from bastion.security import Authenticator, KeyStore
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database, migrate


async def build_services(settings: Settings, resources: Resources | None = None) -> Services:
    """Connect, migrate and load every deployment; the caller owns ``close_services``."""
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    artifacts = ArtifactStore(settings.artifacts_dir)
    registry = Registry(db, artifacts)
    resources = resources or Resources()
    keys = KeyStore(db)
    authenticator = Authenticator(keys, require_keys=settings.security.require_keys)
    deployments = DeploymentManager(registry, resources, settings.deployments, settings.registry)
    gateway = Gateway(settings.llm)
    await gateway.start()
    cache = build_cache(settings)
    semantic = None
    if any(g.cache.semantic_threshold for g in settings.llm.groups):
        semantic = SemanticIndex(lambda texts: resources.text_encoder().encode(texts))
    pipeline = assemble(settings, authenticator, deployments, gateway, cache, semantic)
    svc = Services(
        settings=settings,
        db=db,
        artifacts=artifacts,
        registry=registry,
        resources=resources,
        keys=keys,
        authenticator=authenticator,
        deployments=deployments,
        gateway=gateway,
        cache=cache,
        pipeline=pipeline,
    )
    await deployments.start()
    return svc


def build_cache(settings: Settings) -> ResponseCache:
    entries = max((g.cache.max_entries for g in settings.llm.groups), default=10_000)
    if settings.llm.cache_backend == "redis":
        return RedisCache(settings.llm.redis_url)
    return MemoryCache(entries)


async def close_services(svc: Services) -> None:
    await svc.cache.aclose()
    await svc.gateway.aclose()
    await svc.deployments.aclose()
    await svc.db.aclose()


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
    err: BastionError
    if first.get("type") == "json_invalid":
        err = MalformedBody(f"request body is not valid JSON: {first['msg']}")
    else:
        err = InvalidRequest(f"{where}: {first['msg']}", details={"field": where})
    return error_response(err, request_id_of(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    rid = request_id_of(request)
    if exc.status_code == 404:
        return error_response(NotFound(f"no route {request.method} {request.url.path}"), rid)
    if exc.status_code == 405:
        err = InvalidRequest(f"method {request.method} is not allowed on {request.url.path}")
        resp = error_response(err, rid)
        resp.status_code = 405
        return resp
    generic = BastionError(str(exc.detail))
    resp = error_response(generic, rid)
    resp.status_code = exc.status_code
    return resp


async def _validation_handler(request: Request, exc: Exception) -> Response:
    return _validation_error(request, exc)


def create_app(settings: Settings) -> FastAPI:
    """Build the ASGI app. Nothing connects until the lifespan starts."""
    configure_logging(settings.logging)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        svc = await build_services(settings)
        watcher = asyncio.create_task(svc.deployments.watch())
        try:
            yield {"services": svc}
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await close_services(svc)

    app = FastAPI(
        title="Bastion",
        version="0.1.0",
        description="The production layer for AI models.",
        lifespan=lifespan,
    )
    for router in (predict.router, oip.router, openai_compat.router, admin.router, health.router):
        app.include_router(router)
    app.add_exception_handler(BastionError, handle_bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, handle_unexpected)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.limits.max_body_bytes,
        max_admin_bytes=settings.limits.max_admin_body_bytes,
    )
    app.add_middleware(RequestContext)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` and workers: settings from env and BASTION_CONFIG."""
    from bastion.settings import load_settings

    return create_app(load_settings())
