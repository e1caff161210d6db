"""LlmTarget against the real fault upstream, in-process: the fallback chain, the static answer,
what a call learns (served_by, usage, cost), and how a stream holds its group's slot."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from bastion.errors import Overloaded, Timeout, UpstreamUnavailable
from bastion.gateway import Gateway
from bastion.pipeline.call import Call, LlmRequest, Result
from bastion.pipeline.ending import StreamEnd, end_call, end_stream
from bastion.settings.llm import LlmSettings
from bastion.testing import FaultUpstream

BODY = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def upstream() -> AsyncIterator[FaultUpstream]:
    server = FaultUpstream()
    await server.start()
    yield server
    await server.stop()


def _group(name: str, url: str, model: str, **extra: Any) -> dict[str, Any]:
    upstream = {"name": f"{name}-u", "base_url": url, "model": model, "timeouts": {"idle": 0.3}}
    upstream.update(extra.pop("upstream", {}))
    price = {"input_price_per_1m": 1_000_000, "output_price_per_1m": 2_000_000}
    return {"name": name, "upstreams": [{**upstream, **price}], **extra}


async def _gateway(*groups: dict[str, Any]) -> Gateway:
    settings = LlmSettings.model_validate(
        {
            "retry": {"max_attempts": 1},
            "breaker": {"min_calls": 100},
            "groups": list(groups),
        }
    )
    gateway = Gateway(settings)
    await gateway.start()
    return gateway


def _call(name: str, *, stream: bool = False) -> Call:
    body = {**BODY, "model": name, "stream": stream}
    call = Call("r1", name, "openai.chat", [body], False, time.perf_counter(), stream=stream)
    call.llm = LlmRequest("chat", name, 2, 16)
    return call


async def _drain(call: Call, result: Result) -> tuple[list[bytes], StreamEnd]:
    end = StreamEnd()
    chunks = [c async for c in end_stream(call, result, end)]
    return chunks, end


async def test_a_fallback_answers_and_the_call_says_who_did(upstream: FaultUpstream) -> None:
    gateway = await _gateway(
        _group("main", upstream.base_url, "m-main", fallbacks=["backup"]),
        _group("backup", upstream.base_url, "m-backup"),
    )
    try:
        upstream.set_fault("m-main", "unavailable")
        call = _call("main")
        result = await gateway.target("main").run(call)
        assert result.model == "backup" and result.headers == {"x-bastion-fallback": "backup"}
        assert call.served_by == "backup" and call.usage is not None
        assert call.cost_usd is not None and call.cost_usd > 0  # priced by the answering group
    finally:
        await gateway.aclose()


async def test_the_static_answer_is_the_last_resort(upstream: FaultUpstream) -> None:
    gateway = await _gateway(
        _group("main", upstream.base_url, "m-main", static_fallback="busy, try later")
    )
    try:
        upstream.set_fault("m-main", "unavailable")
        call = _call("main")
        result = await gateway.target("main").run(call)
        assert result.predictions[0].output["choices"][0]["message"]["content"] == "busy, try later"
        assert (call.served_by, call.cost_usd) == ("static", 0.0)
        streamed = _call("main", stream=True)
        result = await gateway.target("main").run(streamed)
        chunks, end = await _drain(streamed, result)
        assert end.error is None and b"busy, try later" in b"".join(chunks)
        assert all(b"[DONE]" not in c for c in chunks)  # the adapter sends the end
    finally:
        await gateway.aclose()


async def test_without_a_fallback_the_failure_is_raised(upstream: FaultUpstream) -> None:
    gateway = await _gateway(_group("main", upstream.base_url, "m-main"))
    try:
        upstream.set_fault("m-main", "unavailable")
        with pytest.raises(UpstreamUnavailable):
            await gateway.target("main").run(_call("main"))
    finally:
        await gateway.aclose()


async def test_a_context_length_error_goes_to_the_context_fallback(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(
        _group("main", upstream.base_url, "m-main", context_fallback="long"),
        _group("long", upstream.base_url, "m-long"),
    )
    try:
        upstream.set_fault("m-main", "context_length")
        call = _call("main")
        result = await gateway.target("main").run(call)
        assert result.model == "long" and call.served_by == "long"
    finally:
        await gateway.aclose()


async def test_a_stream_reports_usage_cost_and_its_first_chunk(upstream: FaultUpstream) -> None:
    gateway = await _gateway(_group("main", upstream.base_url, "m-main"))
    try:
        call = _call("main", stream=True)
        result = await gateway.target("main").run(call)
        chunks, end = await _drain(call, result)
        assert end.error is None and chunks
        assert all(orjson.loads(c.removeprefix(b"data: "))["model"] == "main" for c in chunks)
        assert call.served_by == "main" and call.usage is not None
        assert call.cost_usd is not None and call.cost_usd > 0
        assert call.first_chunk_s is not None and call.first_chunk_s > 0
    finally:
        await gateway.aclose()


async def test_a_stall_after_content_breaks_the_stream_with_its_error(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(_group("main", upstream.base_url, "m-main"))
    try:
        upstream.set_fault("m-main", "stall_stream", after=1)
        call = _call("main", stream=True)
        finished: list[BaseException | None] = []

        async def finisher(_: Result | None, error: BaseException | None) -> None:
            finished.append(error)

        call.finishers.append(finisher)
        result = await gateway.target("main").run(call)
        chunks, end = await _drain(call, result)
        assert chunks and isinstance(end.error, Timeout)
        assert finished == [end.error]  # the finishers saw how it ended
        assert call.usage is not None  # what was delivered is still accounted
    finally:
        await gateway.aclose()


async def test_a_group_bounds_its_live_streams_not_only_their_openings(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(
        _group("main", upstream.base_url, "m-main", max_concurrency=2, max_queue=0)
    )
    target = gateway.target("main")
    try:
        first, second = _call("main", stream=True), _call("main", stream=True)
        live = [(first, await target.run(first)), (second, await target.run(second))]
        assert target.bulkhead.in_flight == 2  # both streams opened, neither read to its end
        with pytest.raises(Overloaded):
            await target.run(_call("main", stream=True))
        await _drain(*live[0])
        assert target.bulkhead.in_flight == 1  # the first stream's end gave its slot back
        third = _call("main", stream=True)
        await _drain(third, await target.run(third))
        await _drain(*live[1])
        assert target.bulkhead.in_flight == 0
    finally:
        await gateway.aclose()


async def test_end_call_runs_finishers_innermost_first_and_reports_a_failed_one() -> None:
    call = _call("main")
    order: list[str] = []

    async def inner(_: Result | None, error: BaseException | None) -> None:
        order.append("inner")
        raise Overloaded("the audit record could not be committed")

    async def outer(_: Result | None, error: BaseException | None) -> None:
        order.append(f"outer saw {type(error).__name__}")

    call.finishers.extend([inner, outer])
    failed = await end_call(call, None, None)
    assert isinstance(failed, Overloaded)
    assert order == ["inner", "outer saw Overloaded"] and call.finishers == []
