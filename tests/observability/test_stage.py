"""The record stage: one record per request (streams at their end), never failing a request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from structlog.testing import capture_logs

from bastion.backends.base import Prediction
from bastion.core.principal import Principal
from bastion.errors import InvalidRequest, RateLimited
from bastion.gateway import Gateway
from bastion.observability import Metrics, RecordStage, RequestLog, Tracing
from bastion.observability.stage import close_observability
from bastion.pipeline import Call, Next, Result
from bastion.pipeline.build import build_pipeline
from bastion.settings import LlmSettings
from bastion.settings.observability import ObservabilitySettings
from tests.observability.test_metrics import exposition, value
from tests.observability.test_tracing import CLIENT_TRACE, TRACEPARENT

ADMIN = Principal("key_1", "ci", "acme", frozenset({"admin"}))


def make_call(deployment: str = "iris", api: str = "predict", **kw: Any) -> Call:
    return Call(
        request_id="r1",
        deployment=deployment,
        api=api,
        inputs=[{"x": 1}],
        batched=False,
        started_at=time.perf_counter(),
        **kw,
    )


class Route:
    """Stands in for the auth and route stages: principal, version, a bulkhead wait."""

    async def __call__(self, call: Call, next: Next) -> Result:
        call.principal, call.version = ADMIN, 3
        call.queue_s = 0.001
        return await next(call)


def pipeline(
    record: RecordStage, terminal: Callable[[Call], Any], *stages: Any
) -> Callable[[Call], Any]:
    return build_pipeline(record.around([Route(), *stages]), terminal)


async def answer(call: Call) -> Result:
    return Result(call.deployment, "iris", 3, [Prediction({"label": "a"}, 0.9)])


def stage(metrics: Metrics | None = None, tracing: Tracing | None = None) -> RecordStage:
    return RecordStage(metrics or Metrics(), tracing or Tracing(), RequestLog(), lambda n: False)


OK = {"deployment": "iris", "version": "3", "status": "200", "error_type": "none"}


async def test_a_successful_call_is_counted_timed_and_logged_once() -> None:
    metrics = Metrics()
    run = pipeline(stage(metrics), answer)
    with capture_logs() as logs:
        await run(make_call())
    text = exposition(metrics)
    assert value(text, "bastion_requests_total", **OK) == 1
    assert value(text, "bastion_queue_wait_seconds_count", deployment="iris") == 1
    assert value(text, "bastion_backend_duration_seconds_count", deployment="iris") == 1
    (line,) = [entry for entry in logs if entry["event"] == "request_completed"]
    assert line["status"] == 200 and line["key_id"] == "key_1" and line["principal"] == "ci"
    assert line["queue_ms"] == 1.0 and line["backend_ms"] >= 0 and line["latency_ms"] >= 0
    assert "output" not in str(line) and "'x'" not in str(line)  # no payloads


async def test_errors_are_counted_by_type_and_status_and_still_raised() -> None:
    metrics = Metrics()

    async def limited(call: Call) -> Result:
        raise RateLimited("rate limit of 5 requests per 1s reached", retry_after=1)

    with capture_logs() as logs, pytest.raises(RateLimited):
        await pipeline(stage(metrics), limited)(make_call())
    text = exposition(metrics)
    assert (
        value(
            text, "bastion_requests_total", **{**OK, "status": "429", "error_type": "rate_limited"}
        )
        == 1
    )
    assert value(text, "bastion_rate_limit_rejections_total", deployment="iris") == 1
    assert logs[-1]["error_type"] == "rate_limited" and "error" not in logs[-1]


async def test_an_upstream_429_is_not_a_rate_limit_rejection() -> None:
    metrics = Metrics()

    async def upstream(call: Call) -> Result:
        raise RateLimited("slow down", details={"upstream": "chat/0"})

    with pytest.raises(RateLimited):
        await pipeline(stage(metrics), upstream)(make_call())
    assert value(exposition(metrics), "bastion_rate_limit_rejections_total", deployment="iris") == 0


async def test_openai_routes_count_contract_errors_as_the_400_they_answer() -> None:
    metrics = Metrics()

    async def invalid(call: Call) -> Result:
        raise InvalidRequest("messages: a non-empty list is required")

    with pytest.raises(InvalidRequest):
        await pipeline(stage(metrics), invalid)(make_call(api="openai.chat"))
    labels = {**OK, "status": "400", "error_type": "invalid_request"}
    assert value(exposition(metrics), "bastion_requests_total", **labels) == 1


async def test_bugs_and_cancellations_are_recorded_without_their_messages() -> None:
    metrics = Metrics()

    async def bug(call: Call) -> Result:
        raise RuntimeError("secret internals")

    async def hang(call: Call) -> Result:
        await asyncio.Event().wait()
        raise AssertionError

    with capture_logs() as logs, pytest.raises(RuntimeError):
        await pipeline(stage(metrics), bug)(make_call())
    assert logs[-1]["status"] == 500 and "secret" not in str(logs[-1])
    task = asyncio.ensure_future(pipeline(stage(metrics), hang)(make_call()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    text = exposition(metrics)
    assert (
        value(
            text,
            "bastion_requests_total",
            **{**OK, "status": "500", "error_type": "internal_error"},
        )
        == 1
    )
    assert (
        value(text, "bastion_requests_total", **{**OK, "status": "499", "error_type": "cancelled"})
        == 1
    )


async def test_unknown_names_are_counted_as_unknown_and_logged_as_requested() -> None:
    metrics = Metrics()

    async def missing(call: Call) -> Result:
        raise InvalidRequest("never routed")

    run = build_pipeline(stage(metrics).around([]), missing)
    with capture_logs() as logs, pytest.raises(InvalidRequest):
        await run(make_call(deployment="x" * 80))
    labels = {
        "deployment": "_unknown",
        "version": "none",
        "status": "422",
        "error_type": "invalid_request",
    }
    assert value(exposition(metrics), "bastion_requests_total", **labels) == 1
    assert logs[-1]["requested"] == "x" * 80


async def test_a_stream_is_recorded_when_it_ends_with_what_it_delivered() -> None:
    metrics = Metrics()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: {}\n\n"

    async def streamed(call: Call) -> Result:
        async def usage(_: Result | None, __: BaseException | None) -> None:
            call.usage = {"prompt_tokens": 7, "completion_tokens": 2}

        call.finishers.append(usage)  # an inner stage's finisher, as the admit stage adds
        return Result(call.deployment, "chat", 1, [], stream=chunks())

    call = make_call(deployment="chat", api="openai.chat", stream=True)
    with capture_logs() as logs:
        result = await pipeline(stage(metrics), streamed)(call)
        assert not [e for e in logs if e["event"] == "request_completed"]
        assert result.stream is not None
        assert [c async for c in result.stream]
        for finisher in call.finishers:
            await finisher(result, RateLimited("cut", details={"upstream": "u"}))
    (line,) = [e for e in logs if e["event"] == "request_completed"]
    assert line["status"] == 200 and line["error_type"] == "rate_limited"
    assert (line["prompt_tokens"], line["completion_tokens"]) == (7, 2)
    text = exposition(metrics)
    assert value(text, "bastion_tokens_total", deployment="chat", kind="prompt") == 7


async def test_recording_never_fails_a_request() -> None:
    class Broken(Metrics):
        def observe(self, r: Any) -> None:
            raise RuntimeError("metrics are down")

    with capture_logs() as logs:
        result = await pipeline(stage(Broken()), answer)(make_call())
    assert result.predictions[0].output == {"label": "a"}
    assert any(e["event"] == "request_recording_failed" for e in logs)


async def test_the_execute_timer_leaves_out_a_bulkhead_wait_inside_the_target() -> None:
    async def queued_then_answer(call: Call) -> Result:
        call.queue_s = 10.0  # the LLM target measured its own bulkhead wait
        return await answer(call)

    call = make_call()
    await pipeline(stage(), queued_then_answer)(call)
    assert call.backend_s == 0.0  # all of it (and more) was the wait


async def test_traced_requests_get_a_span_per_request_execute_and_stage() -> None:
    exporter = InMemorySpanExporter()
    settings = ObservabilitySettings(trace_stages=True)
    tracing = Tracing(settings, exporter=exporter)
    run = pipeline(stage(tracing=tracing), answer)
    with capture_logs() as logs:
        await run(make_call(headers={"traceparent": TRACEPARENT}))
    tracing.force_flush()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"bastion predict", "bastion.stage.route", "bastion.execute"}
    server = spans["bastion predict"]
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == CLIENT_TRACE
    assert server.attributes is not None and server.attributes["bastion.deployment"] == "iris"
    assert spans["bastion.stage.route"].parent.span_id == server.context.span_id  # type: ignore[union-attr]
    assert logs[-1]["trace_id"] == CLIENT_TRACE


async def test_untraced_requests_still_log_the_clients_trace_id() -> None:
    with capture_logs() as logs:
        await pipeline(stage(), answer)(make_call(headers={"traceparent": TRACEPARENT}))
        await pipeline(stage(), answer)(make_call())
    assert [e["trace_id"] for e in logs] == [CLIENT_TRACE, None]


async def test_from_settings_wires_retries_and_honours_the_switches() -> None:
    llm = LlmSettings.model_validate(
        {
            "groups": [
                {"name": "chat", "upstreams": [{"base_url": "http://127.0.0.1:9", "model": "m"}]}
            ]
        }
    )
    gateway = Gateway(llm)
    await gateway.start()
    deployments = SimpleNamespace(all=lambda: [SimpleNamespace(name="iris")])
    try:
        record = RecordStage.from_settings(ObservabilitySettings(), gateway, deployments)  # type: ignore[arg-type]
        assert record.metrics is not None and not record.tracing.enabled
        assert record.metrics.on_retry in gateway.group("chat").on_retry_hooks
        assert record._known("iris") and record._known("chat") and not record._known("x")
        off = ObservabilitySettings(metrics_enabled=False, request_log=False)
        bare = RecordStage.from_settings(off, gateway, deployments)  # type: ignore[arg-type]
        assert bare.metrics is None and bare._log is None
        await close_observability(record.metrics, record.tracing)
    finally:
        await gateway.aclose()


async def test_the_load_meter_counts_calls_in_flight_until_they_end() -> None:
    record = stage()
    seen: list[int] = []

    async def observed(call: Call) -> Result:
        seen.append(record.load.in_flight)
        return await answer(call)

    async def failing(call: Call) -> Result:
        seen.append(record.load.in_flight)
        raise InvalidRequest("bad input")

    await pipeline(record, observed)(make_call())
    with pytest.raises(InvalidRequest):
        await pipeline(record, failing)(make_call())
    assert seen == [1, 1] and record.load.in_flight == 0 and record.load.completed == 2

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: {}\n\n"

    async def streamed(call: Call) -> Result:
        call.usage = {"prompt_tokens": 7, "completion_tokens": 2}
        return Result(call.deployment, "chat", 1, [], stream=chunks())

    call = make_call(deployment="chat", api="openai.chat", stream=True)
    result = await pipeline(record, streamed)(call)
    assert record.load.in_flight == 1  # a stream is in flight until its last byte
    for finisher in call.finishers:
        await finisher(result, None)
    assert (record.load.in_flight, record.load.completed, record.load.tokens) == (0, 3, 9)


async def test_finished_listeners_hear_each_call_once_and_cannot_break_it() -> None:
    heard: list[tuple[str, int | None, type | None]] = []

    def listen(call: Call, result: Result | None, error: BaseException | None) -> None:
        heard.append((call.request_id, result.version if result else None, type(error)))

    def broken(call: Call, result: Result | None, error: BaseException | None) -> None:
        raise RuntimeError("alerts are down")

    metrics = Metrics()
    record = stage(metrics)
    run = build_pipeline(record.around([Route()], [listen, broken]), answer)
    with capture_logs() as logs:
        result = await run(make_call())
    assert result.version == 3 and heard == [("r1", 3, type(None))]
    assert any(e["event"] == "request_recording_failed" for e in logs)
    assert value(exposition(metrics), "bastion_requests_total", **OK) == 1  # still counted
    assert record.around([])[0] is record  # without listeners: the stage itself
