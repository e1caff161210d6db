"""The route stage: deployment name (and optional pinned version) → a loaded model version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.routing.deployments import DeploymentManager

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class RouteStage:
    def __init__(self, deployments: DeploymentManager) -> None:
        self._deployments = deployments

    async def __call__(self, call: Call, next: Next) -> Result:
        if call.requested_version is not None:
            target = await self._deployments.pinned(call.deployment, call.requested_version)
        else:
            target = self._deployments.get(call.deployment).live()
        call.target = target
        call.version = target.version
        return await next(call)
