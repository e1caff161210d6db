"""build_services(settings): every service a running Bastion holds, built and started once."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bastion.actions import ActionsService
from bastion.actions.async_requests import AsyncRequests
from bastion.backends.resources import Resources
from bastion.caching import MemoryCache, RedisCache, ResponseCache
from bastion.caching.semantic import SemanticIndex
from bastion.contracts.openai import OpenAIRequestCheck
from bastion.core.ownership import Ownership
from bastion.evaluation import EvaluationService
from bastion.features import BuiltinFeatures
from bastion.gateway import Gateway
from bastion.governance.runtime import GovernanceRuntime
from bastion.guards.pii import HIGH_CONFIDENCE_TYPES, PiiDetector
from bastion.guards.policies import build_guards
from bastion.monitoring.outlets import Outlets
from bastion.monitoring.service import MonitoringService
from bastion.observability import RecordStage
from bastion.observability.alerts import AlertManager
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.observability.audit import AuditLog
from bastion.observability.audit.scrub import EntryScrubber
from bastion.observability.audit.sql import SqlAuditStore
from bastion.observability.capacity import CapacityMeter
from bastion.pipeline.assemble import assemble
from bastion.rag import RagService
from bastion.registry import Registry
from bastion.registry.opening import open_artifacts
from bastion.review import ReviewService
from bastion.review.hooks import Hooks as ReviewHooks
from bastion.routing import DeploymentManager
from bastion.routing.loaded import load_version
from bastion.routing.rollouts import RolloutService
from bastion.security import Authenticator, JwtVerifier, KeyStore
from bastion.security.encryption import load_encryptor
from bastion.security.files import private_data_dir
from bastion.security.key_check import check_keys
from bastion.security.refusals import RefusalRecorder
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.wiring.data_layer import (
    attach_data_layer,
    build_data,
    enrich_stage,
    start_data_layer,
)
from bastion.wiring.prompts import build_prompts

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


async def build_services(settings: Settings, resources: Resources | None = None) -> Services:
    """Connect, migrate and load every deployment; the caller owns ``close_services``."""
    encryptor = load_encryptor(settings.encryption)  # a bad or missing key fails the start
    jwt = await JwtVerifier.start(settings.security.jwt) if settings.security.jwt else None
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
    audit = None
    if settings.audit.enabled:
        store = SqlAuditStore(db, durability=settings.audit.durability)
        audit = AuditLog(store, settings.audit, encryptor=encryptor, scrub=audit_scrubber(pii))
    outlets = Outlets(metrics=record.metrics, alerts=alerts, audit=audit, encryptor=encryptor)
    monitoring = build_monitoring(settings, db, deployments, gateway, resources, outlets, pii)
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
    governance = GovernanceRuntime.build(settings.governance, settings.llm, db)
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
        refusals=RefusalRecorder(
            settings.security.refusals, audit=audit, alerts=alerts, registry=metrics_registry
        ),
        openai_check=OpenAIRequestCheck(
            max_tokens=settings.governance.max_tokens,
            unknown_fields=settings.openai.unknown_fields,
        ),
        prompts=build_prompts(settings, db, evaluation, gateway),
    )
    svc.capacity = build_capacity(settings, record, gateway, deployments)
    svc.rag = build_rag(settings, db, resources, ownership, alerts, metrics_registry)
    await start_services(svc)
    return svc


async def start_services(svc: Services) -> None:
    """Connect the services to each other and start their loops, in dependency order."""
    assert svc.review is not None and svc.rollouts is not None
    attach_data_layer(svc.settings, svc)  # jobs, batches, the quarantine and its alert source
    if svc.governance is not None:
        svc.governance.start()  # the usage log's group-commit writer
    await svc.deployments.start()
    if svc.prompts is not None:
        # retrieval steps use the server's retrieval collections where it has them
        svc.prompts.attach_retriever(svc.rag)
        await svc.prompts.start()  # every prompt alias read now, then followed
    start_data_layer(svc)  # claims queued jobs and batches, resumes those a dead process left
    await svc.rollouts.start()
    if svc.alerts is not None:
        svc.alerts.attach(svc)  # pull sources: breakers, review backlog, drift, … (as present)
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
        scrub=pii.scrub,
        known=known,
        outlets=outlets,
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


def build_rag(
    settings: Settings,
    db: Database,
    resources: Resources,
    ownership: Ownership,
    alerts: AlertManager | None,
    registry: CollectorRegistry | None,
) -> RagService | None:
    """Retrieval collections, embedding with the bundled MiniLM (None with rag off)."""
    if not settings.rag.enabled:
        return None
    return RagService(
        settings.rag,
        db,
        rag_encoder(settings, resources),
        ownership=ownership,
        alerts=alerts,
        registry=registry,
    )


def rag_encoder(settings: Settings, resources: Resources) -> Callable[[Sequence[str]], Any]:
    """The bundled MiniLM for retrieval: by default its copy with int8 matmuls (about twice
    as fast on chunk-sized texts, cosine ≥ 0.99 to the bundled file; the guards' screen uses
    the same copy). Built on first use, in the worker thread that embeds."""
    from bastion.backends.encoder import bundled_encoder_paths, bundled_encoder_sha256
    from bastion.guards.injection.fast import quantized_copy

    cache = settings.data_dir / "cache"

    def encode(texts: Sequence[str]) -> Any:
        path = None
        if settings.rag.quantized_encoder:
            path = quantized_copy(bundled_encoder_paths()[0], cache, bundled_encoder_sha256())
        return resources.text_encoder(path).encode(texts)

    return encode


def build_cache(settings: Settings) -> ResponseCache:
    entries = max((g.cache.max_entries for g in settings.llm.groups), default=10_000)
    if settings.llm.cache_backend == "redis":
        return RedisCache(settings.llm.redis_url)
    return MemoryCache(entries)


def audit_scrubber(pii: PiiDetector | None = None) -> EntryScrubber:
    """Audit fields lose their PII before they are hashed: names (deployment, key, target,
    request id) with the validated types and person names, ``details`` with every type."""
    names = PiiDetector(types=(*HIGH_CONFIDENCE_TYPES, "name")).scrub
    return EntryScrubber(names, (pii or PiiDetector()).scrub)
