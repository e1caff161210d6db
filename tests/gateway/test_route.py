"""A stream's way down its chain, in-process against the fault upstream: silent upstreams
tried once, hedges inside a group and their cost, the adaptive hedge delay, continuation
bodies, what a continued call reports, and tool calls that are not continued."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from bastion.core.deadline import Deadline
from bastion.errors import StreamTruncated
from bastion.gateway import Gateway
from bastion.gateway.group import OpenStream
from bastion.gateway.route import StreamRoute
from bastion.gateway.splice import Splice
from bastion.gateway.streaming import Relayed, Segment, relay
from bastion.gateway.usage import StreamTally
from bastion.pipeline.call import Call, LlmRequest
from bastion.pipeline.ending import StreamEnd, end_stream
from bastion.settings.llm import LlmSettings
from bastion.testing import FaultUpstream

ANSWER = "Bastion fault upstream says: hi"


@pytest.fixture
async def upstream() -> AsyncIterator[FaultUpstream]:
    server = FaultUpstream()
    await server.start()
    yield server
    await server.stop()


def _up(url: str, model: str, **extra: Any) -> dict[str, Any]:
    timeouts = {"first_token": 0.5, "idle": 0.3, "answer": 0.5}
    return {"name": model, "base_url": url, "model": model, "timeouts": timeouts, **extra}


async def _gateway(*groups: dict[str, Any], attempts: int = 3) -> Gateway:
    settings = LlmSettings.model_validate(
        {
            "retry": {"max_attempts": attempts, "base_backoff_s": 0.01},
            "breaker": {"min_calls": 100},
            "groups": list(groups),
        }
    )
    gateway = Gateway(settings)
    await gateway.start()
    return gateway


def _call(name: str) -> Call:
    body = {"messages": [{"role": "user", "content": "hi"}], "model": name, "stream": True}
    call = Call("r1", name, "openai.chat", [body], False, time.perf_counter(), stream=True)
    call.llm = LlmRequest("chat", name, 2, 16)
    return call


async def _text(gateway: Gateway, call: Call) -> tuple[str, StreamEnd, dict[str, str]]:
    result = await gateway.target(call.deployment).run(call)
    end = StreamEnd()
    chunks = [c async for c in end_stream(call, result, end)]
    events = [orjson.loads(c[6:]) for c in chunks if c.startswith(b"data: ")]
    text = "".join(
        (ch.get("delta") or {}).get("content") or "" for e in events for ch in e["choices"]
    )
    return text, end, dict(result.headers)


async def test_a_silent_upstream_is_tried_once_and_the_fallback_at_once(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(
        {"name": "main", "upstreams": [_up(upstream.base_url, "m-main")], "fallbacks": ["b"]},
        {"name": "b", "upstreams": [_up(upstream.base_url, "m-b")]},
    )
    try:
        upstream.set_fault("m-main", "hang")
        text, end, headers = await _text(gateway, _call("main"))
        assert end.error is None and text == ANSWER and headers == {"x-bastion-fallback": "b"}
        assert upstream.stats()["models"]["m-main"]["requests"] == 1  # 3 attempts allowed
        breaker = gateway.group("main").members[0].breaker.snapshot().as_dict()
        assert breaker["failures"] == 1  # it counts against its breaker
    finally:
        await gateway.aclose()


async def test_a_silent_upstream_leaves_its_group_to_the_others(upstream: FaultUpstream) -> None:
    members = [_up(upstream.base_url, "m-a"), _up(upstream.base_url, "m-b", priority=1)]
    gateway = await _gateway({"name": "pair", "upstreams": members})
    try:
        upstream.set_fault("m-a", "hang")
        text, end, headers = await _text(gateway, _call("pair"))
        assert end.error is None and text == ANSWER and headers == {}
        assert upstream.stats()["models"]["m-a"]["requests"] == 1
    finally:
        await gateway.aclose()


async def test_a_hedge_inside_the_group_wins_and_both_are_paid(upstream: FaultUpstream) -> None:
    slow = _up(upstream.base_url, "m-a", input_price_per_1m=1_000_000)
    slow["timeouts"] = {"first_token": 10, "idle": 10}
    quick = _up(upstream.base_url, "m-b", priority=1, input_price_per_1m=1_000_000)
    gateway = await _gateway({"name": "pair", "upstreams": [slow, quick], "hedge_after_ms": 50})
    try:
        upstream.set_fault("m-a", "delay_first_token", seconds=5)
        call = _call("pair")
        text, end, headers = await _text(gateway, call)
        assert end.error is None and text == ANSWER and headers == {}
        group = gateway.group("pair")
        assert (group.hedges, group.hedge_wins) == (1, 1)
        assert set(call.upstream_costs) == {"m-a", "m-b"}  # the cancelled one read the prompt
        assert call.cost_usd == pytest.approx(sum(call.upstream_costs.values()))
        assert call.served_by == "pair"
    finally:
        await gateway.aclose()


async def test_the_adaptive_hedge_waits_a_multiple_of_the_first_token_p95(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(
        {"name": "g", "upstreams": [_up(upstream.base_url, "m")], "hedge_after_ms": "adaptive"}
    )
    try:
        group = gateway.group("g")
        group.ttft.extend([0.1] * 10)
        assert group.hedge_delay_s() is None  # too few streams seen yet
        group.ttft.extend([0.1] * 85 + [1.0] * 5)
        assert group.hedge_delay_s() == pytest.approx(1.0 * 1.5)
        group.ttft.extend([0.2] * 200)
        assert group.hedge_delay_s() == pytest.approx(0.2 * 1.5)
    finally:
        await gateway.aclose()


async def test_a_prefill_carries_the_delivered_text_and_what_is_left_of_max_tokens(
    upstream: FaultUpstream,
) -> None:
    prefill = _up(upstream.base_url, "m-p", continuation="prefill", prefill_body={"continue": True})
    gateway = await _gateway(
        {"name": "g", "upstreams": [prefill, _up(upstream.base_url, "m-r", priority=1)]}
    )
    try:
        body = {"messages": [{"role": "user", "content": "q"}], "max_tokens": 10}
        route = StreamRoute([], None, body, Deadline.after(5), 1)
        bodies = route._continuation_bodies("Hello wor", 4)
        p, r = gateway.group("g").members
        (mode, sent), restart = bodies(p)
        assert mode == "prefill" and sent["continue"] is True and sent["max_tokens"] == 6
        assert sent["messages"][-1] == {"role": "assistant", "content": "Hello wor"}
        assert restart == ("restart", body) and bodies(r) == [("restart", body)]
        assert route._continuation_bodies("", 0)(p) == [("restart", body)]
    finally:
        await gateway.aclose()


async def test_a_continued_stream_reports_its_switch_usage_and_each_upstreams_cost(
    upstream: FaultUpstream,
) -> None:
    gateway = await _gateway(
        {"name": "main", "upstreams": [_up(upstream.base_url, "m-main")], "fallbacks": ["b"]},
        {"name": "b", "upstreams": [_up(upstream.base_url, "m-b", output_price_per_1m=1e6)]},
    )
    try:
        upstream.set_fault("m-main", "cut_stream", after=3, times=1)
        call = _call("main")
        text, end, headers = await _text(gateway, call)
        assert end.error is None and text == ANSWER and headers == {}  # sent before the switch
        assert call.stream_fallback == "b" and call.served_by == "b"
        assert len(call.continuations) == 1 and "mode=restart" in call.continuations[0]
        assert set(call.upstream_costs) == {"m-main", "m-b"}
        assert call.usage is not None and call.usage["completion_tokens"] == 2 + 5
        assert call.delivered is not None
        assert call.delivered.output["choices"][0]["message"]["content"] == ANSWER
    finally:
        await gateway.aclose()


async def test_a_stream_that_sent_a_tool_call_is_not_continued(upstream: FaultUpstream) -> None:
    gateway = await _gateway({"name": "g", "upstreams": [_up(upstream.base_url, "m")]})
    try:
        member = gateway.group("g").members[0]
        call = {"index": 0, "id": "t1", "function": {"name": "f", "arguments": '{"a'}}
        choice = {"index": 0, "delta": {"tool_calls": [call]}}
        first = {"id": "c", "created": 1, "choices": [choice]}

        async def rest() -> AsyncIterator[dict[str, Any]]:
            raise StreamTruncated("cut")
            yield {}  # pragma: no cover

        opened = OpenStream(member, first, rest(), contextlib.AsyncExitStack())
        seg = Segment(gateway.group("g"), opened, StreamTally(1), Splice("c", 1, "g"))
        asked: list[str] = []
        ended: list[Relayed] = []

        async def resume(_: Segment, delivered: str, __: int) -> Segment | None:
            asked.append(delivered)
            return None

        async def on_end(seen: Relayed, _: BaseException | None) -> None:
            ended.append(seen)

        out = relay(seg, include_usage=False, request_id="r", resume=resume, on_end=on_end)
        with pytest.raises(StreamTruncated):
            async for _ in out:
                pass
        assert asked == [] and ended and not ended[0].continuable
    finally:
        await gateway.aclose()


async def test_a_hedged_group_cut_short_stays_available_to_continue(
    upstream: FaultUpstream,
) -> None:
    patient = {"first_token": 10, "idle": 10}
    main = {**_up(upstream.base_url, "m-main"), "timeouts": patient}
    backup = {**_up(upstream.base_url, "m-b"), "timeouts": patient}
    gateway = await _gateway(
        {"name": "main", "upstreams": [main], "fallbacks": ["b"], "hedge_after_ms": 50},
        {"name": "b", "upstreams": [backup]},
    )
    try:
        upstream.set_fault("m-main", "delay_first_token", seconds=0.4)
        upstream.set_fault("m-b", "delay_first_token", seconds=5)
        body = {"messages": [{"role": "user", "content": "hi"}]}
        route = StreamRoute(
            [gateway.group("main"), gateway.group("b")], None, body, Deadline.after(10), 1
        )
        group, opened = await route.open()
        await opened.close(None)
        assert group.name == "main" and gateway.group("main").hedges == 1
        assert route.queue == [gateway.group("b")]  # the hedge lost, yet b may still continue
        assert set(route.hedge_costs) == {"m-b"}
    finally:
        await gateway.aclose()
