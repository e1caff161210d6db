"""OpenTelemetry tracing per app: batch-exported spans, W3C ``traceparent`` in and out.

Each app has its own ``TracerProvider`` (never the global one). The request span carries the
app's tracer in the OpenTelemetry context, so code further down (the execute step, upstream
clients) opens child spans with ``child_span()`` / ``upstream_call()`` without holding a tracer;
when the request is not traced those cost one context lookup.

The SDK (provider, sampler, batch export) is imported only when tracing is on; the API
(context, propagation) is imported by FastAPI anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bastion.settings.observability import ObservabilitySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_TRACER_KEY = context_api.create_key("bastion-tracer")
_PROPAGATOR = TraceContextTextMapPropagator()
_EMPTY = context_api.Context()  # immutable: the parent of a trace the client did not start

Attributes = Mapping[str, str | int | float | bool]


class Tracing:
    """The app's tracer provider. Off (``enabled`` False, nothing built) unless the settings
    turn tracing on or an ``exporter`` is given (tests pass an in-memory one)."""

    def __init__(
        self, settings: ObservabilitySettings | None = None, exporter: SpanExporter | None = None
    ) -> None:
        cfg = settings or ObservabilitySettings()
        self.enabled = cfg.tracing or exporter is not None
        self.trace_stages = cfg.trace_stages and self.enabled
        self._provider: TracerProvider | None = None
        self.tracer: trace.Tracer | None = None
        if not self.enabled:
            return
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        self._provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(cfg.sampling_ratio)),
            resource=Resource.create({"service.name": cfg.service_name}),
            shutdown_on_exit=False,
        )
        if exporter is None and cfg.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=cfg.otlp_endpoint,
                headers=dict(cfg.otlp_headers),
                timeout=cfg.otlp_timeout_s,
            )
        if exporter is not None:  # exported off the hot path, in batches, by its own thread
            self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self._provider.get_tracer("bastion")

    def start_request(
        self, name: str, headers: Mapping[str, str], attributes: Attributes
    ) -> tuple[Span, Token[context_api.Context]]:
        """Open the SERVER span (child of the client's ``traceparent`` if it sent a valid one)
        and make it current; the caller detaches the token and ends the span."""
        assert self.tracer is not None, "tracing is off"
        parent = _PROPAGATOR.extract(headers) if "traceparent" in headers else _EMPTY
        span = self.tracer.start_span(name, parent, SpanKind.SERVER, attributes)
        ctx = trace.set_span_in_context(
            span, context_api.set_value(_TRACER_KEY, self.tracer, parent)
        )
        return span, context_api.attach(ctx)

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        return self._provider.force_flush(int(timeout_s * 1000)) if self._provider else True

    def shutdown(self) -> None:
        """Export what is still queued, then stop the export thread."""
        if self._provider is not None:
            self._provider.shutdown()
            self._provider = None


def pass_through(headers: Mapping[str, str]) -> Token[context_api.Context] | None:
    """With tracing off: make the client's ``traceparent`` current, so that upstream calls
    carry it on (a non-participating intermediary, as W3C describes). None if it sent none."""
    if "traceparent" not in headers:
        return None
    ctx = _PROPAGATOR.extract(headers)
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return context_api.attach(ctx)


def detach(token: Token[context_api.Context] | None) -> None:
    if token is not None:
        context_api.detach(token)


def trace_id(span: Span | None = None) -> str | None:
    """The 32-hex trace id of ``span`` (default: the current one), or None."""
    sc = (span or trace.get_current_span()).get_span_context()
    return format(sc.trace_id, "032x") if sc.is_valid else None


def error_type(exc: BaseException) -> str:
    """What a span says about an error: its stable type only (messages may quote a payload)."""
    return str(getattr(exc, "type", None) or type(exc).__name__)


def end_span(span: Span, error_type: str | None, attributes: dict[str, Any]) -> None:
    span.set_attributes({k: v for k, v in attributes.items() if v is not None})
    if error_type is not None:
        span.set_status(Status(StatusCode.ERROR, error_type))
    span.end()


@contextmanager
def child_span(name: str, attributes: Attributes | None = None) -> Iterator[Span | None]:
    """A child span of the current one, made current, when the request is traced."""
    tracer = context_api.get_value(_TRACER_KEY)
    if tracer is None:
        yield None
        return
    assert isinstance(tracer, trace.Tracer)
    with tracer.start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as opened:
        try:
            yield opened
        except BaseException as exc:
            opened.set_status(Status(StatusCode.ERROR, error_type(exc)))
            raise


def upstream_call(name: str, attributes: Attributes) -> AbstractContextManager[dict[str, str]]:
    """A CLIENT span around one upstream HTTP call; yields the headers to send with it
    (``traceparent``, ``tracestate``): the span's when traced, the client's when passed
    through, else none. The span is not made current, so it is safe inside generators.

    With an empty context (the request neither traced nor passed through: the usual case)
    it is a ``nullcontext`` holding no headers, a few calls instead of a generator's twenty.
    """
    if not context_api.get_current():
        return nullcontext({})
    return _upstream_span(name, attributes)


@contextmanager
def _upstream_span(name: str, attributes: Attributes) -> Iterator[dict[str, str]]:
    tracer = context_api.get_value(_TRACER_KEY)
    carrier: dict[str, str] = {}
    if tracer is None:
        if trace.get_current_span().get_span_context().is_valid:
            _PROPAGATOR.inject(carrier)
        yield carrier
        return
    assert isinstance(tracer, trace.Tracer)
    opened = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
    _PROPAGATOR.inject(carrier, trace.set_span_in_context(opened))
    try:
        yield carrier
    except BaseException as exc:
        opened.set_status(Status(StatusCode.ERROR, error_type(exc)))
        raise
    finally:
        opened.end()
