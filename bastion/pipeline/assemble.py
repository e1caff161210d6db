"""The ordered stage list of the request path, built once from the app's services."""

from __future__ import annotations

from bastion.caching import CacheStage, ResponseCache
from bastion.caching.semantic import SemanticIndex
from bastion.contracts.stage import ValidateStage
from bastion.gateway import Gateway
from bastion.pipeline.build import build_pipeline
from bastion.pipeline.execute import execute
from bastion.pipeline.stage import Next, Stage
from bastion.routing import DeploymentManager
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
) -> Next:
    """The request path, outermost first (see docs/architecture.md):

    record (metrics, logs, traces) → audit → authenticate/authorize → admit (limits, budgets)
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
    return build_pipeline(stages, execute)
