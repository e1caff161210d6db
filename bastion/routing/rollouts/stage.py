"""The rollout stage, right after route: re-pin the call to its canary or A/B arm, time it,
count it on its arm, add ``x-bastion-arm``, and hand the finished call to shadow traffic."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import structlog

from bastion.errors import BastionError
from bastion.routing.loaded import LoadedVersion
from bastion.routing.rollouts.service import RolloutService, Route

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result
    from bastion.routing.deployments import DeploymentManager

ARM_HEADER = "x-bastion-arm"
VERSION_HEADER = "x-bastion-model-version"
RESERVED_HEADER = "x-bastion-reserved-from"
# Failures a second version may not fix, or that must not be sent twice.
_NOT_RESERVED = frozenset({"timeout", "shutting_down"})

log = structlog.get_logger(__name__)


def _reservable(route: Route, exc: BastionError, call: Call) -> bool:
    """A canary call that failed on the server's side, on an idempotent (non-streamed
    model) call, with time left: the stable arm may answer it."""
    if route.kind != "canary" or route.arm != "canary" or exc.type in _NOT_RESERVED:
        return False
    return not call.stream and (call.deadline is None or call.deadline.remaining() > 0)


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
            self._mark(call, route)
            result = await next(call)
        except BastionError as exc:
            if route is not None and exc.status >= 500:
                self._count(call, route, live.model, started, error=True)
                if _reservable(route, exc, call):  # the stable version answers instead
                    return await self._restable(call, next, live, route)
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

    @staticmethod
    def _mark(call: Call, route: Route | None) -> None:
        """The arm and version on the response, an error response included (render.py sends
        ``call.response_headers`` with errors too)."""
        if route is not None:
            call.response_headers[ARM_HEADER] = route.arm
            call.response_headers[VERSION_HEADER] = str(call.version)

    async def _restable(self, call: Call, next: Next, live: LoadedVersion, route: Route) -> Result:
        """Re-serve a failed canary call on the stable version, within the request: the
        failure is already counted against the canary's SLO, the client sees none of it."""
        failed = call.version
        call.target, call.version = live, live.version
        stable = Route(route.kind, "stable", None, route.run)
        self._mark(call, stable)
        call.response_headers[RESERVED_HEADER] = f"canary v{failed}"
        log.info("canary_call_reserved", deployment=call.deployment, canary=failed)
        result = await next(call)
        headers = {**result.headers, ARM_HEADER: "stable", RESERVED_HEADER: f"canary v{failed}"}
        return dataclasses.replace(result, headers=headers)

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
