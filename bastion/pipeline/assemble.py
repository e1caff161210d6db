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
) -> Next:
    """The request path, outermost first (see docs/architecture.md):

    record (metrics, logs, traces) → audit → authenticate/authorize → admit (limits, budgets)
    → monitor (prediction log, drift: on the way out)
    → route (alias → version; canary, shadow, A/B) → validate → guard (PII, injection)
    → cache → decide (confidence → review) → execute.

    Route runs before validate because the input contract belongs to the version the alias
    points at, and before cache because the cache key holds that version.
    """
    stages: list[Stage] = [
        AuthStage(authenticator),
        RouteStage(deployments, gateway),
        ValidateStage(settings.limits.max_batch),
        CacheStage(cache, {g.name: g.cache for g in settings.llm.groups}, semantic),
    ]
    if admit is not None:  # limits and budgets: right after authenticate/authorize
        at = next(i for i, s in enumerate(stages) if isinstance(s, AuthStage)) + 1
        stages.insert(at, admit)
    if guard is not None:  # PII and injection: right after validate, before the cache
        at = next(i for i, s in enumerate(stages) if isinstance(s, ValidateStage)) + 1
        stages.insert(at, guard)
    if rollouts is not None:  # canary / A-B arms, shadow traffic: right inside route
        at = next(i for i, s in enumerate(stages) if isinstance(s, RouteStage)) + 1
        stages.insert(at, RolloutStage(rollouts, deployments))
    if review is not None:  # decide wraps execute: it is always the innermost stage
        stages.append(DecideStage(review))
    if audit is not None:  # audit: just outside authenticate; reads the principal after it
        at = next(i for i, s in enumerate(stages) if isinstance(s, AuthStage))
        stages.insert(at, AuditStage(audit))
    if alerts is not None and alerts.settings.enabled:  # alert signals: outside all it sees
        stages.insert(0, SignalStage(alerts))
    if monitor is not None:  # prediction log + drift: just outside route, sees who answered
        at = next(i for i, s in enumerate(stages) if isinstance(s, RouteStage))
        stages.insert(at, monitor)
    if record is not None:  # record outermost; its execute timer wraps execute itself
        stages = record.around(stages)
    return build_pipeline(stages, execute)
