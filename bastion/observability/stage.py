"""The record stage: per request, metrics, one log line and the request span (outermost)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import BastionError, RateLimited
from bastion.observability.load import LoadMeter
from bastion.observability.metrics import Metrics
from bastion.observability.request_log import RequestLog, RequestRecord, Scrubber
from bastion.observability.sampling import RuntimeSampler
from bastion.observability.tracing import (
    Tracing,
    child_span,
    detach,
    end_span,
    pass_through,
    trace_id,
)
from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next, Stage
from bastion.settings.observability import ObservabilitySettings

if TYPE_CHECKING:
    from bastion.gateway import Gateway
    from bastion.routing import DeploymentManager

log = structlog.get_logger(__name__)

UNKNOWN = "_unknown"

Finished = Callable[[Call, "Result | None", "BaseException | None"], None]
"""Told of each finished call by the record stage: its result, or the error it ended with."""


def _outcome(call: Call, result: Result | None, error: BaseException | None) -> tuple[Any, ...]:
    """(HTTP status, error type, error message, refused by a rate limit) of a finished call.

    The message is kept for server-side failures only: a client error's message may quote
    the payload (``input: [1, 2] is too short``), and payloads are never logged.
    """
    if error is None:
        return 200, None, None, False
    if isinstance(error, asyncio.CancelledError):
        status, kind, message, limited = 499, "cancelled", None, False
    elif isinstance(error, BastionError):
        status, kind, message = error.status_on(call.api), error.type, error.message
        limited = isinstance(error, RateLimited) and "upstream" not in error.details
    else:
        status, kind, message, limited = 500, "internal_error", None, False
    if result is not None:  # a stream that failed after its 200 went out
        status = 200
    return status, kind, message if status >= 500 else None, limited


class RecordStage:
    """Times the call, counts it (``Metrics``), writes ``request_completed`` (``RequestLog``)
    and opens the request span (``Tracing``). A stream is recorded by a finisher once its
    last byte went out. Recording never fails a request.

    ``known(name)`` tells whether a name that never reached the route stage is served; unknown
    names are counted as ``_unknown`` so that clients cannot inflate label cardinality.
    ``finished`` are told of every call it records, before it counts it (the alert signals,
    ``SignalStage.done``): one stage on the request path instead of two.
    """

    def __init__(
        self,
        metrics: Metrics | None,
        tracing: Tracing,
        request_log: RequestLog | None,
        known: Callable[[str], bool],
        load: LoadMeter | None = None,
        finished: Sequence[Finished] = (),
    ) -> None:
        self.load = load or LoadMeter()  # in flight and totals: the autoscaling signals
        self._metrics = metrics
        self._tracing = tracing
        self._log = request_log
        self._known = known
        self._finished = tuple(finished)

    @classmethod
    def from_settings(
        cls,
        settings: ObservabilitySettings,
        gateway: Gateway,
        deployments: DeploymentManager,
        scrub: Scrubber | None = None,
    ) -> RecordStage:
        """Metrics (sampling the gateway and deployments), tracing and the request log, as
        configured. Call it inside the running loop: with several workers it starts the
        periodic sampler. ``scrub`` redacts PII in logged free text."""
        metrics = None
        if settings.metrics_enabled:
            metrics = Metrics(settings)
            metrics.add_sampler(RuntimeSampler(metrics, gateway, deployments))
            for name in gateway.names:
                gateway.group(name).on_retry_hooks.append(metrics.on_retry)
                gateway.group(name).on_hedge_hooks.append(metrics.on_hedge)
            metrics.start()

        def known(name: str) -> bool:
            return name in gateway or any(d.name == name for d in deployments.all())

        request_log = RequestLog(scrub) if settings.request_log else None
        return cls(metrics, Tracing(settings), request_log, known)

    @property
    def metrics(self) -> Metrics | None:
        return self._metrics

    @property
    def tracing(self) -> Tracing:
        return self._tracing

    def around(self, stages: Sequence[Stage], finished: Sequence[Finished] = ()) -> list[Stage]:
        """``stages`` with this stage outermost and the execute timer innermost (each stage
        in its own span when ``observability.trace_stages`` is on). With ``finished``, the
        outermost is a record stage that also tells them of each finished call (it shares
        this one's metrics, log, tracing and load meter)."""
        outer = self
        if finished:
            outer = RecordStage(
                self._metrics,
                self._tracing,
                self._log,
                self._known,
                self.load,
                (*self._finished, *finished),
            )
        inner = [TracedStage(s) for s in stages] if self._tracing.trace_stages else list(stages)
        return [outer, *inner, ExecuteStage(self._tracing.enabled)]

    async def __call__(self, call: Call, next: Next) -> Result:
        span = token = None
        if self._tracing.enabled:
            attributes = {"bastion.request_id": call.request_id, "bastion.api": call.api}
            span, token = self._tracing.start_request(
                f"bastion {call.api}", call.headers, attributes
            )
        elif "traceparent" in call.headers:
            token = pass_through(call.headers)
        tid = trace_id(span) if token is not None else None
        self.load.in_flight += 1  # back down in _record, once per call (streams: at their end)
        try:
            result = await next(call)
        except BaseException as exc:
            self._record(call, None, exc, span, tid)
            raise
        finally:
            detach(token)
        if result.stream is None:
            self._record(call, result, None, span, tid)
            return result

        async def finish(final: Result | None, error: BaseException | None) -> None:
            self._record(call, final or result, error, span, tid)

        call.finishers.append(finish)  # after the inner stages' own finishers: it sees them
        return result

    def _record(
        self,
        call: Call,
        result: Result | None,
        error: BaseException | None,
        span: Any,
        tid: str | None,
    ) -> None:
        load = self.load
        load.in_flight -= 1
        load.completed += 1
        try:
            for tell in self._finished:
                tell(call, result, error)
        except Exception:  # nor may a listener's bug, nor keep the call from being counted
            log.exception("request_recording_failed", request_id=call.request_id)
        if self._metrics is None and self._log is None and span is None:
            return  # every signal is off
        try:
            record = self._build(call, result, error, tid)
            load.tokens += (record.prompt_tokens or 0) + (record.completion_tokens or 0)
            if self._metrics is not None:
                self._metrics.observe(record)
            if self._log is not None:
                self._log.emit(record)
            if span is not None:
                end_span(span, record.error_type, _span_attributes(record))
        except Exception:  # observability must never turn an answer into an error
            log.exception("request_recording_failed", request_id=call.request_id)

    def _build(
        self, call: Call, result: Result | None, error: BaseException | None, tid: str | None
    ) -> RequestRecord:
        status, kind, message, limited = _outcome(call, result, error)
        name = call.deployment
        if call.version is None and not self._known(name):
            name = UNKNOWN
        usage = call.usage or {}
        principal = call.principal
        return RequestRecord(
            request_id=call.request_id,
            api=call.api,
            deployment=name,
            requested=call.deployment,
            version=call.version,
            model=result.model if result is not None else None,
            status=status,
            error_type=kind,
            error_message=message,
            rate_limited=limited,
            key_id=principal.key_id if principal is not None else None,
            principal=principal.name if principal is not None else None,
            tenant=call.tenant,
            total_s=time.perf_counter() - call.started_at,
            queue_s=call.queue_s if call.version is not None else None,
            backend_s=call.backend_s,
            first_chunk_s=call.first_chunk_s,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            cost_usd=call.cost_usd,
            cost_estimated=call.usage_estimated,
            cache=call.cache,
            fallback=_fallback(call, result),
            continued=tuple(call.continuations),
            upstream_costs=dict(call.upstream_costs) if len(call.upstream_costs) > 1 else None,
            served_by=call.served_by,
            review=call.review.status if call.review is not None else None,
            review_flags=len(call.review_flags),
            stream=call.stream,
            inputs=len(call.inputs),
            trace_id=tid,
            prompt=call.prompt.ref if call.prompt is not None else None,
            citations=tuple(f"{c.get('document')}#{c.get('chunk')}" for c in call.prompt.citations)
            if call.prompt is not None
            else (),
        )


def _fallback(call: Call, result: Result | None) -> str | None:
    """The group that answered instead of the primary: named in the response header, or,
    for a stream continued elsewhere after its headers went out, on the call."""
    header = result.headers.get("x-bastion-fallback") if result is not None else None
    return header or call.stream_fallback


def _span_attributes(r: RequestRecord) -> dict[str, Any]:
    return {
        "bastion.deployment": r.deployment,
        "bastion.version": r.version,
        "bastion.model": r.model,
        "bastion.tenant": r.tenant,
        "bastion.key_id": r.key_id,
        "http.response.status_code": r.status,
        "error.type": r.error_type,
        "bastion.cache": r.cache,
        "bastion.fallback": r.fallback,
        "gen_ai.usage.input_tokens": r.prompt_tokens,
        "gen_ai.usage.output_tokens": r.completion_tokens,
        "bastion.cost_usd": r.cost_usd,
        "bastion.review": r.review,
        "bastion.prompt": r.prompt,
        "bastion.citations": list(r.citations) or None,
    }


class ExecuteStage:
    """Innermost: times the model or upstream call into ``call.backend_s`` (less any bulkhead
    wait inside it) and, when tracing, wraps it in a ``bastion.execute`` span. For a stream
    that is the time to open it; its first chunk and its whole length are recorded apart
    (``call.first_chunk_s`` and the request's total)."""

    def __init__(self, traced: bool) -> None:
        self._traced = traced

    async def __call__(self, call: Call, next: Next) -> Result:
        queued_before = call.queue_s
        started = time.perf_counter()
        try:
            if not self._traced:
                return await next(call)
            attributes: dict[str, str | int] = {
                "bastion.deployment": call.deployment,
                "bastion.version": call.version or 0,
            }
            with child_span("bastion.execute", attributes):
                return await next(call)
        finally:
            waited = call.queue_s - queued_before
            call.backend_s = max(0.0, time.perf_counter() - started - waited)


class TracedStage:
    """A stage in its own span (``observability.trace_stages``), named after its class."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage
        self._name = "bastion.stage." + type(stage).__name__.removesuffix("Stage").lower()

    async def __call__(self, call: Call, next: Next) -> Result:
        with child_span(self._name):
            return await self._stage(call, next)


async def close_observability(metrics: Metrics | None, tracing: Tracing | None) -> None:
    """Stop sampling and flush the spans still queued (in a thread: export may block)."""
    if metrics is not None:
        await metrics.aclose()
    if tracing is not None:
        await asyncio.to_thread(tracing.shutdown)
