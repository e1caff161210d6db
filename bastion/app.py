"""create_app(settings): the one composition root. Builds Services in the ASGI lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from bastion.api import admin, health, oip, openai_compat, predict
from bastion.api import alerts as alerts_api
from bastion.api import audit as audit_api
from bastion.api import costs as costs_api
from bastion.api import evaluation as evaluation_api
from bastion.api import feedback as feedback_api
from bastion.api import metrics as metrics_api
from bastion.api import review as review_api
from bastion.api import rollouts as rollouts_api
from bastion.api.authn import admin_gate
from bastion.api.hot_routes import hot_routes
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
from bastion.evaluation import EvaluationService
from bastion.gateway import Gateway
from bastion.governance.runtime import GovernanceRuntime
from bastion.guards.pii import PiiDetector
from bastion.guards.policies import build_guards
from bastion.monitoring.service import MonitoringService
from bastion.observability import RecordStage, close_observability
from bastion.observability.alerts import AlertManager
from bastion.observability.audit import AuditLog
from bastion.observability.logging import configure_logging
from bastion.pipeline.assemble import assemble
from bastion.registry import ArtifactStore, Registry
from bastion.review import ReviewService
from bastion.routing import DeploymentManager
from bastion.routing.loaded import load_version
from bastion.routing.rollouts import RolloutService
from bastion.security import Authenticator, JwtVerifier, KeyStore
from bastion.security.encryption import load_encryptor
from bastion.security.key_check import check_keys
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.store.alerts_tables import SqlAlertHistory
from bastion.store.audit_tables import SqlAuditStore


async def build_services(settings: Settings, resources: Resources | None = None) -> Services:
    """Connect, migrate and load every deployment; the caller owns ``close_services``."""
    encryptor = load_encryptor(settings.encryption)  # a bad or missing key fails the start
    jwt = await JwtVerifier.start(settings.security.jwt) if settings.security.jwt else None
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    await check_keys(db, encryptor)  # keys that cannot open the stored data fail the start
    artifacts = ArtifactStore(settings.artifacts_dir)
    registry = Registry(db, artifacts)
    resources = resources or Resources()
    guards_ready = asyncio.create_task(  # encoder + classifier load off the loop, meanwhile
        asyncio.to_thread(
            build_guards,
            settings.guards,
            resources,
            settings.data_dir / "cache",
            llm_routes=bool(settings.llm.groups),
        )
    )
    keys = KeyStore(db)
    authenticator = Authenticator(keys, require_keys=settings.security.require_keys, jwt=jwt)
    deployments = DeploymentManager(registry, resources, settings.deployments, settings.registry)
    gateway = Gateway(settings.llm)
    await gateway.start()
    cache = build_cache(settings)
    semantic = None
    if any(g.cache.semantic_threshold for g in settings.llm.groups):
        semantic = SemanticIndex(lambda texts: resources.text_encoder().encode(texts))
    review = ReviewService(settings.review, db, deployments, gateway, scrub=PiiDetector().scrub)
    record = RecordStage.from_settings(
        settings.observability, gateway, deployments, scrub=PiiDetector().scrub
    )
    evaluation = EvaluationService(
        settings.evaluation,
        db,
        registry,
        artifacts,
        functools.partial(load_version, registry, resources),
    )
    rollouts = RolloutService(
        settings.rollouts,
        settings.deployments,
        db,
        registry,
        deployments,
        gate=evaluation.guard.canary_gate,  # a canary passes its alias's promotion gates
    )
    evaluation.attach_shadow(rollouts.shadow_agreement)
    alerts = AlertManager.from_settings(settings.alerts, SqlAlertHistory(db))
    governance = GovernanceRuntime.build(settings.governance, settings.llm, db)
    audit = None
    if settings.audit.enabled:
        store = SqlAuditStore(db, durability=settings.audit.durability)
        audit = AuditLog(store, settings.audit, encryptor=encryptor)
    guards = await guards_ready  # the server serves nothing before its screen is warm
    monitoring = build_monitoring(settings, db, deployments, gateway, resources)
    pipeline = assemble(
        settings,
        authenticator,
        deployments,
        gateway,
        cache,
        semantic,
        review=review,
        record=record,
        rollouts=rollouts,
        alerts=alerts,
        admit=governance.stage,
        guard=guards,
        audit=audit,
        monitor=monitoring.stage() if monitoring is not None else None,
    )
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
        review=review,
        metrics=record.metrics,
        tracing=record.tracing,
        rollouts=rollouts,
        alerts=alerts,
        governance=governance,
        guards=guards,
        audit=audit,
        encryptor=encryptor,
        monitoring=monitoring,
        predictions=monitoring.predictions if monitoring is not None else None,
        feedback=monitoring.feedback if monitoring is not None else None,
        evaluation=evaluation,
    )
    governance.start()  # the usage log's group-commit writer
    review.connect(svc)  # after every field is set: picks up encryptor, feedback, audit, …
    await deployments.start()
    rollouts.attach(svc)  # audit, alerts and feedback are looked up on svc when used
    await rollouts.start()
    alerts.attach(svc)  # pull sources: breakers, review backlog, drift, … (as present)
    if monitoring is not None:
        monitoring.attach(svc)  # encryptor, metrics, alerts and audit, as present
        await monitoring.start()  # the log's writer; live versions' drift references
    return svc


def build_monitoring(
    settings: Settings,
    db: Database,
    deployments: DeploymentManager,
    gateway: Gateway,
    resources: Resources,
) -> MonitoringService | None:
    """The prediction log, feedback, accuracy and drift (None with monitoring off)."""
    if not settings.monitoring.enabled:
        return None

    def known(name: str) -> bool:
        return name in gateway or any(d.name == name for d in deployments.all())

    return MonitoringService(
        settings.monitoring,
        db,
        guards=settings.guards,
        deployments=deployments,
        encoder=resources.text_encoder,
        scrub=PiiDetector().scrub,
        known=known,
    )


def build_cache(settings: Settings) -> ResponseCache:
    entries = max((g.cache.max_entries for g in settings.llm.groups), default=10_000)
    if settings.llm.cache_backend == "redis":
        return RedisCache(settings.llm.redis_url)
    return MemoryCache(entries)


async def close_services(svc: Services) -> None:
    await svc.cache.aclose()
    await svc.gateway.aclose()
    if svc.rollouts is not None:
        await svc.rollouts.aclose()  # stops shadow workers, flushes stats, frees the lease
    await svc.deployments.aclose()
    if svc.review is not None:
        await svc.review.aclose()  # lets webhooks in flight finish (bounded)
    if svc.monitoring is not None:
        await svc.monitoring.aclose()  # writes the predictions still queued (bounded)
    await close_observability(svc.metrics, svc.tracing)
    if svc.alerts is not None:
        await svc.alerts.aclose()  # stops evaluating; notifications in flight finish (bounded)
    if svc.governance is not None:
        await svc.governance.aclose()  # writes the last usage records, closes Redis
    if svc.audit is not None:
        await svc.audit.aclose()  # commits the records still queued (bounded)
    await svc.authenticator.aclose()  # a JWKS refetch still running
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
    configure_logging(settings.logging, settings.observability)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        svc = await build_services(settings)
        watcher = asyncio.create_task(svc.deployments.watch())
        review_sla = asyncio.create_task(svc.review.run_sla()) if svc.review else None
        rollouts_loop = asyncio.create_task(svc.rollouts.run()) if svc.rollouts else None
        if svc.alerts is not None:
            svc.alerts.start()  # the evaluation loop; stopped by close_services
        try:
            # Everything built so far lives as long as the process: move it out of the
            # collector's reach so that full collections stop rescanning it under load.
            gc.collect()
            gc.freeze()
            yield {"services": svc}
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if review_sla is not None:
                review_sla.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await review_sla
            if rollouts_loop is not None:
                rollouts_loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rollouts_loop
            await close_services(svc)

    app = FastAPI(
        title="Bastion",
        version="0.1.0",
        description="The production layer for AI models.",
        lifespan=lifespan,
        dependencies=[Depends(admin_gate)],  # /v1/admin/*: 401 first; never client-only keys
        # Bastion traces and meters itself (observability/); FastAPI's own telemetry would
        # duplicate every request span and costs a provider lookup per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    for router in (predict.router, oip.router, openai_compat.router, admin.router, health.router):
        app.include_router(router)
    app.include_router(review_api.router)
    app.include_router(metrics_api.router)
    app.include_router(rollouts_api.router)
    app.include_router(alerts_api.router)
    app.include_router(audit_api.router)
    app.include_router(costs_api.router)
    app.include_router(feedback_api.router)
    app.include_router(evaluation_api.router)
    app.router.routes[0:0] = hot_routes()  # matched first; FastAPI's copies document them
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
