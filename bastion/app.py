"""create_app(settings): the one composition root. Builds Services in the ASGI lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from bastion.actions import ActionsService
from bastion.actions.async_requests import AsyncRequests
from bastion.api import actions as actions_api
from bastion.api import admin, admin_files, health, oip, openai_compat, predict
from bastion.api import alerts as alerts_api
from bastion.api import audit as audit_api
from bastion.api import backfill as backfill_api
from bastion.api import costs as costs_api
from bastion.api import data as data_api
from bastion.api import evaluation as evaluation_api
from bastion.api import features as features_api
from bastion.api import feedback as feedback_api
from bastion.api import jobs as jobs_api
from bastion.api import metrics as metrics_api
from bastion.api import openai_batch as openai_batch_api
from bastion.api import operations as operations_api
from bastion.api import quarantine as quarantine_api
from bastion.api import review as review_api
from bastion.api import rollouts as rollouts_api
from bastion.api.accounting import COST_HEADER, call_headers
from bastion.api.authn import admin_gate
from bastion.api.gatekeeper import Gatekeeper
from bastion.api.headers import SecurityHeaders
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
from bastion.console import build_console
from bastion.core.ownership import Ownership
from bastion.data import QUARANTINED, DataService
from bastion.errors import BastionError, InvalidRequest, MalformedBody, NotFound
from bastion.evaluation import EvaluationService
from bastion.features import BuiltinFeatures, EnrichStage
from bastion.gateway import Gateway
from bastion.governance.runtime import GovernanceRuntime
from bastion.guards.pii import PiiDetector
from bastion.guards.policies import build_guards
from bastion.jobs import ChunkScorer, JobLedger, JobService, ScorerLimits
from bastion.jobs.batch_store import BatchStore
from bastion.jobs.batches import BatchService
from bastion.jobs.entities import Chunk, Job, RowError
from bastion.jobs.files import FileStore
from bastion.jobs.formats import read_chunks
from bastion.jobs.outputs import JobFiles
from bastion.monitoring.references import ReferenceStore
from bastion.monitoring.service import MonitoringService
from bastion.observability import RecordStage, close_observability
from bastion.observability.alerts import AlertManager
from bastion.observability.audit import AuditLog
from bastion.observability.capacity import CapacityMeter
from bastion.observability.logging import configure_logging
from bastion.pipeline import Call, Next
from bastion.pipeline.assemble import assemble
from bastion.registry import ArtifactStore, Registry
from bastion.review import ReviewService
from bastion.routing import DeploymentManager
from bastion.routing.loaded import load_version
from bastion.routing.rollouts import RolloutService
from bastion.security import Authenticator, JwtVerifier, KeyStore
from bastion.security.encryption import load_encryptor
from bastion.security.files import private_data_dir
from bastion.security.refusals import RefusalRecorder
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.store.alerts_tables import SqlAlertHistory
from bastion.store.audit_tables import SqlAuditStore


async def build_services(settings: Settings, resources: Resources | None = None) -> Services:
    """Connect, migrate and load every deployment; the caller owns ``close_services``."""
    encryptor = load_encryptor(settings.encryption)  # a bad or missing key fails the start
    jwt = await JwtVerifier.start(settings.security.jwt) if settings.security.jwt else None
    private_data_dir(settings.data_dir)  # 0700; files this process creates are 0600
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    artifacts = ArtifactStore(settings.artifacts_dir)
    registry = Registry(db, artifacts)
    sec = settings.security
    ownership = Ownership.of(sec.global_operators, sec.global_approvers)
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
        ownership=ownership,
    )
    await evaluation.gates.pin_all()  # gates pin their eval sets' versions (issue 24)
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
    actions = build_actions(settings, db, audit, record)
    guards = await guards_ready  # the server serves nothing before its screen is warm
    monitoring = build_monitoring(settings, db, deployments, gateway, resources)
    data = build_data(settings, db, registry, deployments)
    features = BuiltinFeatures(db, settings.features.poll_interval_s)
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
        data=data.stage(),
        watch=data.watch_stage(),
        enrich=enrich_stage(settings, features),
        transform=data.transform_stage(),
        act=actions.stage() if actions is not None else None,
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
        data=data,
        features=features,
        actions=actions,
        async_requests=AsyncRequests(settings.actions, db),
        ownership=ownership,
        refusals=RefusalRecorder(settings.security.refusals),
    )
    assert svc.refusals is not None
    metrics_registry = record.metrics.registry if record.metrics is not None else None
    svc.refusals.attach(audit=audit, alerts=alerts, registry=metrics_registry)
    svc.capacity = build_capacity(settings, record, gateway, deployments)
    attach_data_layer(settings, svc)  # jobs, batches, the quarantine and its alert source
    governance.start()  # the usage log's group-commit writer
    review.connect(svc)  # after every field is set: picks up encryptor, feedback, audit, …
    await deployments.start()
    start_data_layer(svc)  # claims queued jobs and batches, resumes those a dead process left
    rollouts.attach(svc)  # audit, alerts and feedback are looked up on svc when used
    await rollouts.start()
    alerts.attach(svc)  # pull sources: breakers, review backlog, drift, … (as present)
    if monitoring is not None:
        monitoring.attach(svc)  # encryptor, metrics, alerts and audit, as present
        await monitoring.start()  # the log's writer; live versions' drift references
    if actions is not None:
        await actions.start(pipeline, review)  # destinations, dispatcher, NATS intake
    return svc


def build_actions(
    settings: Settings, db: Database, audit: AuditLog | None, record: RecordStage
) -> ActionsService | None:
    """The action layer (None when the config declares no actions, events or intake)."""
    cfg = settings.actions
    if not (cfg.deployments or cfg.events or cfg.intake):
        return None
    registry = record.metrics.registry if record.metrics is not None else None
    return ActionsService(cfg, db, audit=audit, metrics_registry=registry)


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


def build_capacity(
    settings: Settings, record: RecordStage, gateway: Gateway, deployments: DeploymentManager
) -> CapacityMeter:
    """The autoscaling signals: gauges sampled before each scrape, GET /v1/admin/capacity."""
    meter = CapacityMeter(
        settings.operations.capacity, record.load, gateway, deployments, record.metrics
    )
    if record.metrics is not None:
        record.metrics.add_sampler(meter)
    return meter


def call_cost_usd(call: Call) -> float | None:
    """What a settled call cost, as its response would say (``x-bastion-cost-usd``)."""
    cost = call_headers(call).get(COST_HEADER)
    return float(cost) if cost is not None else None


def build_data(
    settings: Settings, db: Database, registry: Registry, deployments: DeploymentManager
) -> DataService:
    """Data contracts (rules learned from the training profile stored at registration)."""
    references = ReferenceStore(db)

    async def profile_of(deployment: str, version: int) -> Any:
        model = next(
            (d.model_name for d in settings.deployments if d.name == deployment), deployment
        )
        return await references.get(model, version)

    return DataService(settings.data, db, profile_of)


def job_screen(svc: Services) -> Any:
    """Batch rows against the deployment's data contract: bad rows go to the quarantine."""
    data = svc.data
    assert data is not None

    async def screen(
        job: Job, chunk: Chunk, rows: list[tuple[int, Any]]
    ) -> tuple[list[tuple[int, Any]], list[RowError]]:
        version = job.version
        if version is None and job.deployment not in svc.gateway:
            with contextlib.suppress(BastionError):
                version = svc.deployments.get(job.deployment).live().version
        span = range(chunk.first_row, chunk.first_row + chunk.rows)
        good, held = await data.screen(job.tenant, job.deployment, version, job.id, rows, span)
        return good, [RowError(r, QUARANTINED, m, rule) for r, rule, m in held]

    return screen


def job_precheck(settings: Settings, svc: Services) -> Any:
    """Before a job's first row: block it when its input's schema changed (if so declared)."""
    data = svc.data
    assert data is not None

    async def check(job: Job, files: JobFiles) -> str | None:
        contract = data.contracts.contract(job.deployment)
        if contract is None or contract.on_schema_change != "block":
            return None
        try:
            loaded = svc.deployments.get(job.deployment).live()
        except BastionError:
            return None
        first = await asyncio.to_thread(
            next, read_chunks(files.input, job.input_format, settings.data.sample_rows), None
        )
        rows = first.values if first is not None else []
        found = await data.diff(job.deployment, loaded.version, loaded.contract.input_schema, rows)
        return f"blocked_by_schema_change: {found.summary()}" if found.changes else None

    return check


def build_jobs(settings: Settings, svc: Services) -> JobService | None:
    """Batch jobs: the deployment pipeline as scorer, the usage log flushed per chunk."""
    if not settings.jobs.enabled:
        return None
    pipeline: Next = svc.pipeline
    limits = ScorerLimits(
        call_rows=min(settings.jobs.call_rows, settings.limits.max_batch),
        concurrency=settings.jobs.concurrency,
        max_retries=settings.jobs.max_retries,
    )
    recorder = svc.governance.recorder if svc.governance is not None else None

    def known(name: str) -> bool:
        return name in svc.gateway or any(d.name == name for d in svc.deployments.all())

    return JobService(
        settings.jobs,
        JobLedger(svc.db),
        ChunkScorer(pipeline, call_cost_usd, limits, screen=job_screen(svc)),
        svc.keys,
        settings.data_dir / "jobs",
        known=known,
        flush_usage=recorder.flush if recorder is not None else None,
        precheck=job_precheck(settings, svc),
    )


def attach_data_layer(settings: Settings, svc: Services) -> None:
    svc.jobs = build_jobs(settings, svc)
    svc.batches = build_batches(settings, svc)
    if svc.alerts is not None and svc.data is not None:
        svc.alerts.add_source("quarantine_rate", svc.data.alert_source())
        svc.data.attach_alerts(svc.alerts)  # schema diffs as schema_change gauges


def enrich_stage(settings: Settings, features: BuiltinFeatures) -> EnrichStage | None:
    """Feature lookup, only where a deployment declares a feature binding."""
    bindings = {b.deployment: b for b in settings.features.bindings}
    return EnrichStage(features, bindings) if bindings else None


def start_data_layer(svc: Services) -> None:
    if svc.features is not None and svc.settings.features.bindings:
        svc.features.start()  # the in-process cache's refresh
    if svc.data is not None:
        svc.data.start()  # the quarantine's writer (only with a data contract declared)
    if svc.jobs is not None:
        svc.jobs.start()
    if svc.batches is not None:
        svc.batches.start()


def build_batches(settings: Settings, svc: Services) -> BatchService | None:
    """The OpenAI Files and Batch API: each line a call through the pipeline."""
    if not settings.jobs.enabled:
        return None
    recorder = svc.governance.recorder if svc.governance is not None else None
    caller = openai_batch_api.line_caller(
        svc.pipeline, settings.governance, svc.gateway.__contains__, call_cost_usd
    )
    return BatchService(
        BatchStore(svc.db),
        FileStore(svc.db, settings.data_dir / "files"),
        svc.keys,
        caller,
        flush_usage=recorder.flush if recorder is not None else None,
        concurrency=settings.jobs.concurrency * 2,
        lease_s=settings.jobs.lease_s,
        poll_interval_s=settings.jobs.poll_interval_s,
    )


def build_cache(settings: Settings) -> ResponseCache:
    entries = max((g.cache.max_entries for g in settings.llm.groups), default=10_000)
    if settings.llm.cache_backend == "redis":
        return RedisCache(settings.llm.redis_url)
    return MemoryCache(entries)


async def close_services(svc: Services) -> None:
    if svc.jobs is not None:
        await svc.jobs.aclose()  # running jobs stop between calls; their leases lapse
    if svc.batches is not None:
        await svc.batches.aclose()
    if svc.data is not None:
        await svc.data.aclose()
    if svc.features is not None:
        await svc.features.aclose()  # writes the quarantined rows still queued
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
    if svc.async_requests is not None:
        await svc.async_requests.aclose()  # lets ?async=true runs in flight finish (bounded)
    if svc.actions is not None:
        await svc.actions.aclose()  # stops the dispatcher and intake; closes destinations
    if svc.refusals is not None:
        svc.refusals.close()  # the count of refusals not audited one by one
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


async def _too_deep(request: Request, exc: Exception) -> Response:
    err = MalformedBody("request body is nested too deeply to parse; flatten it")
    return error_response(err, request_id_of(request))


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
    app.include_router(operations_api.router)
    app.mount("/console", build_console())  # the web console: its own pages, session, headers
    for data_layer in (jobs_api, quarantine_api, openai_batch_api, data_api, backfill_api,
                       features_api):  # fmt: skip
        app.include_router(data_layer.router)
    app.include_router(actions_api.router)
    app.include_router(actions_api.public)
    app.include_router(admin_files.router)
    app.router.routes[0:0] = hot_routes()  # matched first; FastAPI's copies document them
    app.add_exception_handler(BastionError, handle_bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RecursionError, _too_deep)  # a JSON body nested too deep
    app.add_exception_handler(Exception, handle_unexpected)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.limits.max_body_bytes,
        max_admin_bytes=settings.limits.max_admin_body_bytes,
        max_admin_json_bytes=settings.limits.max_admin_json_bytes,
    )
    app.add_middleware(Gatekeeper)  # identity before the body; refusals recorded
    app.add_middleware(SecurityHeaders)  # nosniff, no-store on admin, CSP on /docs
    app.add_middleware(RequestContext)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` and workers: settings from env and BASTION_CONFIG."""
    from bastion.settings import load_settings

    return create_app(load_settings())
