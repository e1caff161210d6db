"""The ordered stage list of the request path, built once from the app's services."""

from __future__ import annotations

from bastion.contracts.stage import ValidateStage
from bastion.pipeline.build import build_pipeline
from bastion.pipeline.execute import execute
from bastion.pipeline.stage import Next, Stage
from bastion.routing import DeploymentManager
from bastion.routing.stage import RouteStage
from bastion.security import Authenticator, AuthStage
from bastion.settings import Settings


def assemble(settings: Settings, authenticator: Authenticator, deployments: DeploymentManager) -> Next:
    """authenticate/authorize → route → validate → execute.

    Route runs before validate because the input contract belongs to the version the alias
    points at (see docs/architecture.md).
    """
    stages: list[Stage] = [
        AuthStage(authenticator),
        RouteStage(deployments),
        ValidateStage(settings.limits.max_batch),
    ]
    return build_pipeline(stages, execute)
