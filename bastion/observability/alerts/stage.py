"""SignalStage: feeds every finished call's latency, outcome, fallback and cost to alerting."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bastion.errors import BastionError
from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next

if TYPE_CHECKING:
    from bastion.observability.alerts.manager import AlertManager


class SignalStage:
    """Outermost on the request path (the "record" position), so that it sees every outcome.

    Non-streamed calls are recorded when ``next`` returns or raises; a stream when its last
    byte is out (a finisher). Calls that never reached a deployment (unknown name, refused
    before routing) are recorded only if they failed on the server's side, so that junk
    deployment names cannot crowd real ones out of the fixed memory; cancelled calls (the
    client went away) are not an outcome of ours.

    With the record stage on, the app does not run this as a stage of its own: the record
    stage hands every finished call to ``done`` (``RecordStage.around(stages, finished)``),
    one stage less for each request to pass through.
    """

    def __init__(self, alerts: AlertManager) -> None:
        self._alerts = alerts
        self._record = alerts.recorder.record

    async def __call__(self, call: Call, next: Next) -> Result:
        try:
            result = await next(call)
        except BaseException as exc:
            self.done(call, None, exc)
            raise
        if result.stream is None:
            self.done(call, result, None)
            return result

        async def finish(final: Result | None, error: BaseException | None) -> None:
            self.done(call, final or result, error)

        call.finishers.append(finish)
        return result

    def done(self, call: Call, result: Result | None, error: BaseException | None) -> None:
        """Record one finished call (a stream: once its last byte is out)."""
        error_type: str | None = None
        if error is not None:
            if isinstance(error, asyncio.CancelledError):
                return
            error_type = error.type if isinstance(error, BastionError) else "internal_error"
            server_side = not isinstance(error, BastionError) or int(error.status) >= 500
            if call.target is None and not server_side:
                return
        fallback = (
            call.served_by == "static"
            or call.stream_fallback is not None
            or (result is not None and "x-bastion-fallback" in result.headers)
        )
        elapsed = time.perf_counter() - call.started_at
        self._record(call.deployment, elapsed, error_type, fallback, call.cost_usd)
        if call.budget_events:
            self._alerts.note_budget_events(call.deployment, call.budget_events)
