"""build_services(settings): every service a running Bastion holds, built and started once."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING

from bastion.actions import ActionsService
from bastion.actions.async_requests import AsyncRequests
from bastion.backends.resources import Resources
from bastion.caching import MemoryCache, ResponseCache
from bastion.caching.semantic import SemanticIndex
from bastion.contracts.openai import OpenAIRequestCheck
from bastion.core.ownership import Ownership
from bastion.evaluation import EvaluationService
from bastion.features import BuiltinFeatures, feature_source
from bastion.gateway import Gateway
from bastion.governance.runtime import GovernanceRuntime
from bastion.guards.pii import HIGH_CONFIDENCE_TYPES, PiiDetector
from bastion.guards.policies import build_guards
from bastion.monitoring.outlets import Outlets
from bastion.monitoring.predictions import sparing
from bastion.monitoring.service import MonitoringService
from bastion.observability import RecordStage
from bastion.observability.alerts import AlertManager
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.observability.audit import AuditLog
from bastion.observability.audit.scrub import EntryScrubber
from bastion.observability.audit.sql import SqlAuditStore
from bastion.observability.capacity import CapacityMeter
from bastion.pipeline.assemble import assemble
from bastion.registry import Registry
from bastion.registry.opening import open_artifacts
from bastion.review import ReviewService
from bastion.review.hooks import Hooks as ReviewHooks
from bastion.routing import DeploymentManager
from bastion.routing.loaded import load_version
from bastion.routing.rollouts import RolloutService
from bastion.security import Authenticator, KeyStore
from bastion.security.encryption import Encryptor, load_encryptor
from bastion.security.files import private_data_dir
from bastion.security.key_check import check_keys
from bastion.security.refusals import RefusalRecorder
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.store.row_writer import RowWriter
from bastion.wiring.alert_sources import alert_sources
from bastion.wiring.data_layer import (
    JobInputs,
    build_batches,
    build_data,
    build_jobs,
    enrich_stage,
    start_data_layer,
)
from bastion.wiring.prompts import build_prompts
from bastion.wiring.rag import build_rag

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from bastion.security.jwt_auth import JwtVerifier


def build_audit(
    settings: Settings, db: Database, encryptor: Encryptor | None, pii: PiiDetector
) -> AuditLog | None:
    """The audit log (None when switched off): durable, scrubbed, sealed when keys are set."""
    if not settings.audit.enabled:
        return None
    store = SqlAuditStore(db, durability=settings.audit.durability)
    return AuditLog(store, settings.audit, encryptor=encryptor, scrub=audit_scrubber(pii))


async def _jwt_verifier(settings: Settings) -> JwtVerifier | None:
    if not settings.security.jwt:
        return None
    from bastion.security.jwt_auth import JwtVerifier  # PyJWT and cryptography load only here

    return await JwtVerifier.start(settings.security.jwt)


async def build_services(settings: Settings, resources: Resources | None = None) -> Services:
    """Connect, migrate and load every deployment; the caller owns ``close_services``."""
    encryptor = load_encryptor(settings.encryption)  # a bad or missing key fails the start
    jwt = await _jwt_verifier(settings)
    private_data_dir(settings.data_dir)  # 0700; files this process creates are 0600
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    await check_keys(db, encryptor)  # keys that cannot open the stored data fail the start
    artifacts = open_artifacts(settings, db)  # the cache here, and the shared store
    registry = Registry(db, artifacts)
    sec = settings.security
    ownership = Ownership.of(sec.global_operators, sec.global_approvers)
    resources = resources or Resources()
    # One detector for the guard, the prediction log, the request record, review and the
    # audit details: it remembers recent texts, and they all read the same messages.
    pii = PiiDetector()
    guards_ready = asyncio.create_task(  # encoder + classifier load off the loop, meanwhile
        asyncio.to_thread(
            build_guards,
            settings.guards,
            resources,
            settings.data_dir / "cache",
            llm_routes=bool(settings.llm.groups),
            detector=pii,
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
    record = RecordStage.from_settings(
        settings.observability, gateway, deployments, scrub=pii.scrub
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
    # the sinks other concerns are handed at construction (each None when its concern is off)
    alerts = AlertManager.from_settings(settings.alerts, SqlAlertHistory(db))
    audit = build_audit(settings, db, encryptor, pii)
    outlets = Outlets(metrics=record.metrics, alerts=alerts, audit=audit, encryptor=encryptor)
    # on a SQLite file, the usage and prediction logs write through the audit writer's thread
    store = audit.store if audit is not None else None
    sqlite_writer = store.sqlite_writer if isinstance(store, SqlAuditStore) else None
    monitoring = build_monitoring(
        settings, db, deployments, gateway, resources, outlets, pii, sqlite_writer
    )
    rollouts = RolloutService(
        settings.rollouts,
        settings.deployments,
        db,
        registry,
        deployments,
        gate=evaluation.guard.canary_gate,  # a canary passes its alias's promotion gates
        audit=audit,
        alerts=alerts,
        feedback=monitoring.feedback if monitoring is not None else None,
    )
    # the one cycle here: rollouts ask evaluation's gate, evaluation reads rollouts' shadow
    # agreement; closed by this typed late binding (evaluation.attach_shadow: ShadowSource)
    evaluation.attach_shadow(rollouts.shadow_agreement)
    governance = GovernanceRuntime.build(settings.governance, settings.llm, db, rows=sqlite_writer)
    metrics_registry = record.metrics.registry if record.metrics is not None else None
    actions = build_actions(settings, db, audit, metrics_registry)
    review = ReviewService(
        settings.review,
        db,
        deployments,
        gateway,
        scrub=pii.scrub,
        encryptor=encryptor,
        hooks=ReviewHooks(
            feedback=monitoring.feedback if monitoring is not None else None,
            audit=audit,
            alerts=alerts,
            metrics=record.metrics,
            predictions=monitoring.predictions if monitoring is not None else None,
            actions=actions,
        ),
    )
    guards = await guards_ready  # the server serves nothing before its screen is warm
    data = build_data(settings, db, registry, deployments, alerts)
    features = BuiltinFeatures(db, settings.features.poll_interval_s)
    source = feature_source(settings.features, features)  # the built-in table, or Feast
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
        enrich=enrich_stage(settings, source),
        transform=data.transform_stage(),
        act=actions.stage() if actions is not None else None,
    )
    openai_check = OpenAIRequestCheck(
        max_tokens=settings.governance.max_tokens,
        unknown_fields=settings.openai.unknown_fields,
    )
    # jobs and batches drive the assembled pipeline, which never calls them: built after it
    job_inputs = JobInputs(
        db, pipeline, keys, gateway, deployments, data, openai_check, governance.recorder
    )
    sources = alert_sources(
        gateway=gateway,
        review=review,
        data=data,
        metrics=record.metrics,
        monitoring=monitoring,
    )
    for kind, read in sources.items():
        alerts.add_source(kind, read)
    rag = build_rag(settings, db, resources, ownership, alerts, metrics_registry)
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
        rollouts=rollouts,
        alerts=alerts,
        governance=governance,
        guards=guards,
        evaluation=evaluation,
        capacity=build_capacity(settings, record, gateway, deployments),
        data=data,
        features=features,
        async_requests=AsyncRequests(settings.actions, db),
        refusals=RefusalRecorder(
            settings.security.refusals, audit=audit, alerts=alerts, registry=metrics_registry
        ),
        openai_check=openai_check,
        ownership=ownership,
        metrics=record.metrics,
        tracing=record.tracing,
        audit=audit,
        encryptor=encryptor,
        monitoring=monitoring,
        predictions=monitoring.predictions if monitoring is not None else None,
        feedback=monitoring.feedback if monitoring is not None else None,
        jobs=build_jobs(settings, job_inputs),
        batches=build_batches(settings, job_inputs),
        feature_source=source,
        actions=actions,
        prompts=build_prompts(settings, db, evaluation, gateway, retriever=rag),
        rag=rag,
    )
    await start_services(svc)
    return svc


async def start_services(svc: Services) -> None:
    """Start the services' loops, in dependency order (everything is built and connected)."""
    svc.governance.start()  # the usage log's group-commit writer
    await svc.deployments.start()
    if svc.prompts is not None:
        await svc.prompts.start()  # every prompt alias read now, then followed
    start_data_layer(svc)  # claims queued jobs and batches, resumes those a dead process left
    await svc.rollouts.start()
    if svc.monitoring is not None:
        await svc.monitoring.start()  # the log's writer; live versions' drift references
    if svc.actions is not None:
        await svc.actions.start(svc.pipeline, svc.review)  # destinations, dispatcher, intake
    if svc.rag is not None:
        svc.rag.start()  # document age and staleness alerts, every rag.freshness_interval_s


def build_actions(
    settings: Settings,
    db: Database,
    audit: AuditLog | None,
    registry: CollectorRegistry | None,
) -> ActionsService | None:
    """The action layer (None when the config declares no actions, events or intake)."""
    cfg = settings.actions
    if not (cfg.deployments or cfg.events or cfg.intake):
        return None
    return ActionsService(cfg, db, audit=audit, metrics_registry=registry)


def build_monitoring(
    settings: Settings,
    db: Database,
    deployments: DeploymentManager,
    gateway: Gateway,
    resources: Resources,
    outlets: Outlets,
    pii: PiiDetector,
    rows: RowWriter | None = None,
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
        scrub=sparing(pii.scrub),  # payloads are dumped at once: number-only parts not walked
        known=known,
        outlets=outlets,
        rows=rows,
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


def build_cache(settings: Settings) -> ResponseCache:
    entries = max((g.cache.max_entries for g in settings.llm.groups), default=10_000)
    if settings.llm.cache_backend == "redis":
        from bastion.caching.redis_cache import RedisCache  # redis loads only then

        return RedisCache(settings.llm.redis_url)
    return MemoryCache(entries)


def audit_scrubber(pii: PiiDetector | None = None) -> EntryScrubber:
    """Audit fields lose their PII before they are hashed: names (deployment, key, target,
    request id) with the validated types and person names, ``details`` with every type."""
    names = PiiDetector(types=(*HIGH_CONFIDENCE_TYPES, "name")).scrub
    return EntryScrubber(names, (pii or PiiDetector()).scrub)
