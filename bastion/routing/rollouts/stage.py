"""The rollout stage, right after route: re-pin the call to its canary or A/B arm, time it,
count it on its arm, add ``x-bastion-arm``, and hand the finished call to shadow traffic."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from bastion.errors import BastionError
from bastion.routing.loaded import LoadedVersion
from bastion.routing.rollouts.service import RolloutService, Route

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result
    from bastion.routing.deployments import DeploymentManager

ARM_HEADER = "x-bastion-arm"


class RolloutStage:
    """Only in-process deployments with a rollout take part; a pinned version (OIP
    ``/versions/{v}``) is served as asked. The shadow replay is queued after the live result
    is complete, so the live response neither waits for it nor can be changed by it."""

    def __init__(self, rollouts: RolloutService, deployments: DeploymentManager) -> None:
        self._rollouts = rollouts
        self._deployments = deployments

    async def __call__(self, call: Call, next: Next) -> Result:
        live = call.target
        if (
            not isinstance(live, LoadedVersion)
            or call.requested_version is not None
            or not self._rollouts.active(call.deployment)
        ):
            return await next(call)
        route = self._rollouts.route(call)
        started = time.perf_counter()
        try:
            if route is not None and route.version not in (None, live.version):
                assert route.version is not None
                pinned = await self._deployments.pinned(call.deployment, route.version)
                call.target, call.version = pinned, pinned.version
            result = await next(call)
        except BastionError as exc:
            if route is not None and exc.status >= 500:
                self._count(call, route, live.model, started, error=True)
            raise
        except Exception:
            if route is not None:
                self._count(call, route, live.model, started, error=True)
            raise
        elapsed = self._count(call, route, result.model, started, error=False, result=result)
        self._rollouts.mirror(call, result, elapsed)
        if route is None:
            return result
        return dataclasses.replace(result, headers={**result.headers, ARM_HEADER: route.arm})

    def _count(
        self,
        call: Call,
        route: Route | None,
        model: str,
        started: float,
        *,
        error: bool,
        result: Result | None = None,
    ) -> float:
        elapsed = (time.perf_counter() - started) * 1000
        if route is not None:
            predictions = result.predictions if result is not None else ()
            self._rollouts.record(call, route, model, elapsed, error=error, predictions=predictions)
        return elapsed
