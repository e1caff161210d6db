"""The ordered stage list of the request path, built once from the app's services."""

from __future__ import annotations

from bastion.caching import CacheStage, ResponseCache
from bastion.caching.semantic import SemanticIndex
from bastion.contracts.stage import ValidateStage
from bastion.gateway import Gateway
from bastion.observability import RecordStage
from bastion.observability.alerts import AlertManager, SignalStage
from bastion.observability.audit import AuditLog, AuditStage
from bastion.pipeline.build import build_pipeline
from bastion.pipeline.execute import execute
from bastion.pipeline.stage import Next, Stage
from bastion.review import DecideStage, ReviewService
from bastion.routing import DeploymentManager
from bastion.routing.rollouts import RolloutService, RolloutStage
from bastion.routing.stage import RouteStage
from bastion.security import Authenticator, AuthStage
from bastion.settings import Settings


def assemble(
    settings: Settings,
    authenticator: Authenticator,
    deployments: DeploymentManager,
    gateway: Gateway,
    cache: ResponseCache,
    semantic: SemanticIndex | None = None,
    review: ReviewService | None = None,
    record: RecordStage | None = None,
    rollouts: RolloutService | None = None,
    alerts: AlertManager | None = None,
    admit: Stage | None = None,
    guard: Stage | None = None,
    audit: AuditLog | None = None,
    monitor: Stage | None = None,
    data: Stage | None = None,
    watch: Stage | None = None,
    enrich: Stage | None = None,
    transform: Stage | None = None,
    act: Stage | None = None,
) -> Next:
    """The request path, outermost first (see docs/architecture.md):

    record (metrics, logs, traces; it tells the alert signals of each finished call: no stage
    of their own) → audit → authenticate/authorize
    → admit (limits, budgets) → monitor (prediction log, drift: on the way out)
    → route (alias → version) → rollouts (canary, shadow, A/B) → validate
    → guard (PII, injection) → cache → decide (confidence → review) → execute.

    Route runs before validate because the input contract belongs to the version the alias
    points at, and before cache because the cache key holds that version.
    """
    cached_groups = {g.name: g.cache for g in settings.llm.groups if g.cache.mode != "off"}
    signals = SignalStage(alerts) if alerts is not None and alerts.settings.enabled else None
    optional: list[Stage | None] = [
        signals if record is None else None,  # else the record stage tells it (one stage less)
        AuditStage(audit) if audit is not None else None,  # reads the principal after auth
        AuthStage(authenticator, owner_of=deployments.owner),
        admit,  # limits and budgets
        monitor,  # prediction log + drift, on the way out: sees who answered
        act,  # action intents (outbox), committed with the audit record: docs/actions.md
        RouteStage(deployments, gateway),
        RolloutStage(rollouts, deployments) if rollouts is not None else None,
        enrich,  # feature lookup by entity key (features/), before the contract sees inputs
        transform,  # the deployment's versioned preprocessing (data/transforms.py)
        watch,  # live schema watch (data/): sees inputs the schema is about to refuse
        ValidateStage(
            settings.limits.max_batch,
            {d.name: d.max_batch for d in settings.deployments if d.max_batch is not None},
            max(
                settings.jobs.call_rows, settings.jobs.columnar_call_rows, settings.limits.max_batch
            ),
        ),
        data,  # data contract (ranges, categories, …): reject or quarantine
        guard,  # PII and injection: before the cache and the model see the input
        CacheStage(cache, cached_groups, semantic) if cached_groups else None,
        DecideStage(review) if review is not None and review.policies else None,  # innermost
    ]
    stages = [stage for stage in optional if stage is not None]  # switched off: absent
    if record is not None:  # record outermost; its execute timer wraps execute itself
        stages = record.around(stages, [signals.done] if signals is not None else [])
    return build_pipeline(stages, execute)
