"""Streams that survive: a stream broken after part of its answer went out is finished by
the next upstream (prefill or restart), exactly once; silent upstreams are not retried; a
slow first token is hedged. Through a real server, the ``openai`` SDK and the fault upstream."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.llm_env import LlmEnv

pytestmark = pytest.mark.e2e

MESSAGES = [{"role": "user", "content": "hello there"}]
ANSWER = "Bastion fault upstream says: hello there"
FAULTS = {"cut": "cut_stream", "stall": "stall_stream", "malformed": "malformed_chunk"}


def _raw(
    llm: LlmEnv, model: str, request_id: str | None = None, **extra: Any
) -> tuple[list[dict[str, Any]], list[str], str]:
    """The stream as sent: its data events (parsed), its comments, and its last data line."""
    body = {"model": model, "messages": MESSAGES, "stream": True, **extra}
    headers = {**llm.server.auth, **({"x-request-id": request_id} if request_id else {})}
    with httpx.stream(
        "POST",
        llm.server.url + "/v1/chat/completions",
        headers=headers,
        json=body,
        timeout=30,
    ) as r:
        text = r.read().decode()
    data = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    comments = [line for line in text.splitlines() if line.startswith(":")]
    events = [orjson.loads(d) for d in data if d != "[DONE]"]
    return events, comments, data[-1] if data else ""


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(
        (c.get("delta") or {}).get("content") or "" for e in events for c in e.get("choices") or []
    )


def _stats(llm: LlmEnv) -> dict[str, Any]:
    groups = llm.server.get("/v1/admin/upstreams").json()["data"]
    return {g["group"]: g for g in groups}


@pytest.mark.parametrize("mode", ["prefill", "restart"])
@pytest.mark.parametrize("fault", ["cut", "stall", "malformed"])
def test_a_broken_stream_is_finished_by_the_fallback_exactly_once(
    llm: LlmEnv, fault: str, mode: str
) -> None:
    group = f"k-{fault}-{mode}"
    llm.upstream.set_fault(f"m-{group}", FAULTS[fault], after=3, times=1)
    events, comments, last = _raw(llm, group, stream_options={"include_usage": True})
    assert _text(events) == ANSWER  # whole, nothing twice, nothing missing
    assert last == "[DONE]"
    assert len({e["id"] for e in events}) == 1 and {e["model"] for e in events} == {group}
    roles = [c["delta"]["role"] for e in events for c in e["choices"] if "role" in c["delta"]]
    assert roles == ["assistant"]
    assert [e for e in events if e.get("error")] == []
    assert len(comments) == 1 and f"to={group.replace('k-', 'kb-', 1)}-m-kb" in comments[0]
    assert f"mode={mode}" in comments[0]
    usage = events[-1]["usage"]  # the client asked for usage: summed over both upstreams
    # before the break "Bastion fault" (2 tokens); then the rest (4) or the whole answer (6)
    assert usage["completion_tokens"] == (6 if mode == "prefill" else 8)
    assert llm.requests(f"m-kb-{fault}-{mode}") >= 1


def _logged(llm: LlmEnv, request_id: str) -> str:
    """The request's ``request_completed`` line, once the server has written it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for raw in llm.server.log().splitlines():
            if f"request_id={request_id}" in raw and "request_completed" in raw:
                return raw
        time.sleep(0.1)
    raise AssertionError(f"no request_completed line for {request_id}")


def test_the_switch_is_in_the_request_log_with_each_upstreams_cost(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-k-cut-prefill", "cut_stream", after=3, times=1)
    rid = f"cont-{uuid.uuid4().hex}"
    events, _, last = _raw(llm, "k-cut-prefill", rid)
    assert _text(events) == ANSWER and last == "[DONE]"
    line = _logged(llm, rid)
    primary, backup = "k-cut-prefill-m-k-cut-prefill", "kb-cut-prefill-m-kb-cut-prefill"
    assert " fallback=kb-cut-prefill " in line and " served_by=kb-cut-prefill " in line
    assert f"continued=['from={primary} to={backup} group=kb-cut-prefill mode=prefill" in line
    assert f"upstream_costs={{'{primary}': " in line and f"'{backup}': " in line
    assert " completion_tokens=6 " in line and " status=200 " in line


def test_the_sdk_sees_one_complete_answer(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-k-cut-restart", "cut_stream", after=4, times=1)
    chunks = list(
        llm.client().chat.completions.create(
            model="k-cut-restart",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
    assert text == ANSWER
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0


@pytest.mark.parametrize("fault", ["cut", "stall", "malformed"])
def test_without_continuation_the_stream_ends_with_the_error_event(llm: LlmEnv, fault: str) -> None:
    group = f"k-{fault}-none"
    llm.upstream.set_fault(f"m-{group}", FAULTS[fault], after=3, times=1)
    events, comments, last = _raw(llm, group)
    assert last != "[DONE]" and '"error"' in last
    assert _text(events) == "Bastion fault"  # what was sent before the break, nothing more
    assert comments == [] and llm.requests(f"m-kb-{fault}-none") == 0


def test_a_refused_prefill_restarts_with_the_delivered_text_skipped(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-k-refuse", "cut_stream", after=3, times=1)
    llm.upstream.set_fault("m-kb-refuse", "refuse_prefill")
    before = llm.requests("m-kb-refuse")
    events, comments, last = _raw(llm, "k-refuse", stream_options={"include_usage": True})
    assert _text(events) == ANSWER and last == "[DONE]"
    assert llm.requests("m-kb-refuse") - before == 2  # the prefill (refused), then the restart
    assert "mode=restart" in comments[0]
    assert events[-1]["usage"]["completion_tokens"] == 8
    assert _stats(llm)["kb-refuse"]["upstreams"][0]["breaker"]["state"] == "closed"


def test_a_prefill_answered_afresh_is_caught_and_not_sent_twice(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-k-ignore", "cut_stream", after=3, times=1)
    llm.upstream.set_fault("m-kb-ignore", "ignore_prefill")
    events, comments, last = _raw(llm, "k-ignore", stream_options={"include_usage": True})
    assert _text(events) == ANSWER and last == "[DONE]"  # not "Bastion faultBastion fault..."
    assert "mode=prefill" in comments[0]
    assert events[-1]["usage"]["completion_tokens"] == 2 + 6


def test_a_fresh_answer_that_differs_ends_with_the_error_event(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-k-diverge", "cut_stream", after=3, times=1)
    llm.upstream.set_fault("m-kb-diverge", "different_answer")
    events, _, last = _raw(llm, "k-diverge")
    assert _text(events) == "Bastion fault"  # never the other answer's words
    error = orjson.loads(last)["error"]
    assert error["type"] == "upstream_error" and "does not begin with" in error["message"]


@pytest.mark.parametrize("fault", ["hang", "silent"])  # no headers; headers and no chunk
def test_a_silent_upstream_is_tried_once_then_the_fallback_answers(llm: LlmEnv, fault: str) -> None:
    llm.upstream.set_fault("m-silent", fault)
    before = llm.requests("m-silent")
    started = time.monotonic()
    events, _, last = _raw(llm, "silent")
    took = time.monotonic() - started
    assert _text(events) == ANSWER and last == "[DONE]"
    assert {e["model"] for e in events} == {"backup"}
    assert llm.requests("m-silent") - before == 1  # not retried for this request
    assert took < 10  # the first-token timeout (0.6 s) plus the fallback, not 3 x 0.6 s + ...
    res = llm.client().chat.completions.create(model="silent", messages=MESSAGES)  # type: ignore[arg-type]
    assert res.model == "backup" and llm.requests("m-silent") - before <= 2
    llm.upstream.clear("m-silent")


def test_a_slow_first_token_is_hedged_to_the_fallback(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-hedged", "delay_first_token", seconds=20)
    started = time.monotonic()
    with httpx.stream(
        "POST",
        llm.server.url + "/v1/chat/completions",
        headers=llm.server.auth,
        json={"model": "hedged", "messages": MESSAGES, "stream": True},
        timeout=30,
    ) as r:
        text = r.read().decode()
        header = r.headers.get("x-bastion-fallback")
    took = time.monotonic() - started
    assert "there" in text and text.rstrip().endswith("data: [DONE]")
    assert header == "hedgefb"
    assert took < 10  # hedge_after_ms (0.2 s) plus the fallback's time, far below 20 s
    hedges = _stats(llm)["hedged"]["hedges"]
    assert hedges == {"started": 1, "won": 1}
    metrics = llm.server.get("/metrics").text
    assert 'bastion_upstream_hedges_total{group="hedged",outcome="won"} 1.0' in metrics
    llm.upstream.clear("m-hedged")


def test_the_hedge_budget_holds_under_load(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-hl", "delay_first_token", seconds=0.3)
    requests = 60

    def one(_: int) -> str:
        events, _, last = _raw(llm, "hedgeload")
        assert last == "[DONE]"
        return _text(events)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        texts = list(pool.map(one, range(requests)))
    took = time.monotonic() - started
    assert texts == [ANSWER] * requests
    hedges = _stats(llm)["hedgeload"]["hedges"]["started"]
    # 5% of the requests plus the reserve of one hedge per 10 s window (a slow run spans more)
    assert 1 <= hedges <= requests * 0.05 + 1 + took // 10
    assert llm.requests("m-hlfb") <= hedges  # a hedge cancelled early may never reach it
    llm.upstream.clear("m-hl")
