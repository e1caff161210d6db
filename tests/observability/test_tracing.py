"""Tracing: per-app provider, W3C traceparent in and out, spans for upstream calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import orjson
import pytest
from aiohttp import web
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bastion.backends.openai_upstream import OpenAIUpstream, create_session
from bastion.errors import UpstreamError
from bastion.observability.tracing import (
    Tracing,
    child_span,
    detach,
    end_span,
    pass_through,
    trace_id,
    upstream_call,
)
from bastion.resilience import Deadline
from bastion.settings.observability import ObservabilitySettings

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
ANSWER = {
    "id": "c1",
    "object": "chat.completion",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


@dataclass
class Recorder:
    """A tiny OpenAI-shaped upstream that remembers each request's traceparent."""

    base_url: str = ""
    traceparents: list[str | None] = field(default_factory=list)
    fail: bool = False


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()

    async def chat(request: web.Request) -> web.StreamResponse:
        rec.traceparents.append(request.headers.get("traceparent"))
        body = await request.json()
        if rec.fail:
            error = {"error": {"message": "cannot answer: my secret prompt", "type": "server"}}
            return web.json_response(error, status=500)
        if not body.get("stream"):
            return web.json_response(ANSWER)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        chunk = {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
        await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.base_url = f"http://127.0.0.1:{port}/v1"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with create_session(limit=4) as s:
        yield s


def traced() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return Tracing(exporter=exporter), exporter


async def test_tracing_is_off_by_default_and_then_does_nothing() -> None:
    tracing = Tracing(ObservabilitySettings())
    assert not tracing.enabled and tracing.tracer is None
    with child_span("x") as opened:
        assert opened is None
    with upstream_call("y", {}) as headers:
        assert headers == {}
        headers["x-mine"] = "1"  # each call gets its own
    with upstream_call("y", {}) as headers:
        assert headers == {}
    token = pass_through({"traceparent": TRACEPARENT})  # passed through: the client's, on
    try:
        with upstream_call("y", {}) as headers:
            assert headers["traceparent"] == TRACEPARENT
    finally:
        detach(token)
    assert pass_through({}) is None
    assert pass_through({"traceparent": "garbage"}) is None
    assert tracing.force_flush()
    tracing.shutdown()


def test_settings_turn_tracing_on_with_an_otlp_endpoint() -> None:
    settings = ObservabilitySettings(otlp_endpoint="http://127.0.0.1:9/v1/traces")
    assert settings.tracing
    tracing = Tracing(settings)
    assert tracing.enabled and tracing.tracer is not None
    tracing.shutdown()  # nothing queued: returns at once


async def test_the_request_span_continues_the_clients_trace() -> None:
    tracing, exporter = traced()
    span, token = tracing.start_request("bastion predict", {"traceparent": TRACEPARENT}, {})
    assert trace_id() == CLIENT_TRACE == trace_id(span)
    with child_span("bastion.execute", {"bastion.version": 3}) as child:
        assert child is not None
    detach(token)
    end_span(span, None, {"bastion.deployment": "iris", "bastion.model": None})
    assert tracing.force_flush()
    by_name = {s.name: s for s in exporter.get_finished_spans()}
    server, execute = by_name["bastion predict"], by_name["bastion.execute"]
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == CLIENT_TRACE
    assert server.parent is not None and format(server.parent.span_id, "016x") == CLIENT_SPAN
    assert execute.parent is not None and execute.parent.span_id == server.context.span_id
    assert server.attributes == {"bastion.deployment": "iris"}  # None values are dropped
    assert server.resource.attributes["service.name"] == "bastion"


async def test_a_request_without_traceparent_starts_a_new_trace() -> None:
    tracing, exporter = traced()
    span, token = tracing.start_request("bastion predict", {}, {})
    detach(token)
    end_span(span, "invalid_request", {})
    tracing.force_flush()
    (server,) = exporter.get_finished_spans()
    assert server.parent is None
    assert server.status.status_code is StatusCode.ERROR
    assert server.status.description == "invalid_request"


async def test_upstream_calls_carry_traceparent_and_get_client_spans(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    tracing, exporter = traced()
    client = OpenAIUpstream(recorder.base_url, "", session=session, model="m", name="up-1")
    span, token = tracing.start_request("bastion openai.chat", {"traceparent": TRACEPARENT}, {})
    try:
        await client.chat(CHAT, Deadline.after(5))
        chunks = [c async for c in client.stream_chat(CHAT, Deadline.after(5))]
    finally:
        detach(token)
        end_span(span, None, {})
    assert chunks and recorder.traceparents and None not in recorder.traceparents
    tracing.force_flush()
    clients = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(clients) == 2
    for sent, client_span in zip(recorder.traceparents, clients, strict=True):
        assert sent is not None
        _, trace, parent, flags = sent.split("-")
        assert trace == CLIENT_TRACE and flags == "01"
        assert parent == format(client_span.context.span_id, "016x")  # the upstream's parent
        assert client_span.attributes is not None
        assert client_span.attributes["bastion.upstream"] == "up-1"


async def test_a_failed_upstream_call_marks_its_span_with_the_error_type_only(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    tracing, exporter = traced()
    recorder.fail = True
    client = OpenAIUpstream(recorder.base_url, "", session=session, model="m")
    span, token = tracing.start_request("bastion openai.chat", {}, {})
    with pytest.raises(UpstreamError):
        await client.chat(CHAT, Deadline.after(5))
    detach(token)
    end_span(span, "upstream_error", {})
    tracing.force_flush()
    (client_span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert client_span.status.status_code is StatusCode.ERROR
    assert client_span.status.description == "upstream_error"
    assert not client_span.events  # no exception text: it may quote the payload


async def test_with_tracing_off_the_clients_traceparent_is_passed_through(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    client = OpenAIUpstream(recorder.base_url, "", session=session, model="m")
    token = pass_through({"traceparent": TRACEPARENT})
    assert token is not None
    try:
        assert trace_id() == CLIENT_TRACE
        await client.chat(CHAT, Deadline.after(5))
    finally:
        detach(token)
    await client.chat(CHAT, Deadline.after(5))
    assert recorder.traceparents == [TRACEPARENT, None]


async def test_sampling_ratio_zero_records_new_traces_never_but_follows_the_client() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing(ObservabilitySettings(sampling_ratio=0.0), exporter=exporter)
    span, token = tracing.start_request("unsampled", {}, {})
    detach(token)
    end_span(span, None, {})
    span, token = tracing.start_request("sampled by the client", {"traceparent": TRACEPARENT}, {})
    detach(token)
    end_span(span, None, {})
    tracing.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["sampled by the client"]
