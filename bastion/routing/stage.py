"""The route stage: a served name (and optional pinned version) → the target that runs it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bastion.gateway import Gateway
from bastion.routing.deployments import DeploymentManager

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class RouteStage:
    """LLM model groups answer the OpenAI routes; in-process deployments answer every API.

    In-process deployments are bounded by their bulkhead (bounded concurrency and wait queue;
    beyond it a fast 503 ``overloaded`` with Retry-After). LLM groups bound themselves.
    """

    def __init__(self, deployments: DeploymentManager, gateway: Gateway) -> None:
        self._deployments = deployments
        self._gateway = gateway

    async def __call__(self, call: Call, next: Next) -> Result:
        if call.llm is not None and call.deployment in self._gateway:
            call.target = self._gateway.target(call.deployment)
            call.version = call.target.version
            return await next(call)
        dep = self._deployments.get(call.deployment)
        if call.requested_version is not None:
            target = await self._deployments.pinned(call.deployment, call.requested_version)
        else:
            target = dep.live()
        call.target = target
        call.version = target.version
        queued = time.perf_counter()
        async with dep.bulkhead.slot(call.deadline):
            call.queue_s = time.perf_counter() - queued  # for observability
            return await next(call)
