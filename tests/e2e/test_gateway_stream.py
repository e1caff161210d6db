"""Streams that never lie: complete answers, or an explicit error — never a fake finish."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest

from tests.e2e.llm_env import LlmEnv

pytestmark = pytest.mark.e2e

MESSAGES = [{"role": "user", "content": "hello there"}]
ANSWER = "Bastion fault upstream says: hello there"


def _collect(llm: LlmEnv, model: str, **kw: object) -> tuple[str, list[object]]:
    chunks = list(
        llm.client().chat.completions.create(model=model, messages=MESSAGES, stream=True, **kw)
    )  # type: ignore[call-overload]
    text = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
    return text, chunks


def test_healthy_stream_with_usage(llm: LlmEnv) -> None:
    text, chunks = _collect(llm, "ok", stream_options={"include_usage": True})
    assert text == ANSWER
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0  # type: ignore[attr-defined]
    assert all(c.model == "ok" for c in chunks)  # type: ignore[attr-defined]


def test_stream_without_usage_request_gets_none(llm: LlmEnv) -> None:
    text, chunks = _collect(llm, "ok")
    assert text == ANSWER
    assert all(getattr(c, "usage", None) is None for c in chunks)


def test_async_stream(llm: LlmEnv) -> None:
    async def run() -> str:
        client = llm.aclient()
        try:
            stream = await client.chat.completions.create(
                model="ok", messages=MESSAGES, stream=True
            )  # type: ignore[arg-type]
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        finally:
            await client.close()

    assert asyncio.run(run()) == ANSWER


@pytest.mark.parametrize(
    ("group", "fault", "params"),
    [
        ("cut", "cut_stream", {"after": 3}),
        ("stall", "stall_stream", {"after": 3}),
        ("malformed", "malformed_chunk", {"after": 3}),
    ],
)
def test_broken_stream_ends_with_an_explicit_error(
    llm: LlmEnv, group: str, fault: str, params: dict[str, object]
) -> None:
    llm.upstream.set_fault(f"m-{group}", fault, **params)
    started = time.monotonic()
    with pytest.raises(openai.APIError):
        _collect(llm, group)
    assert time.monotonic() - started < 5
    with httpx.stream(
        "POST",
        llm.server.url + "/v1/chat/completions",
        headers=llm.server.auth,
        json={"model": group, "messages": MESSAGES, "stream": True},
        timeout=10,
    ) as r:
        body = r.read().decode()
    assert '"error"' in body
    assert "[DONE]" not in body
    assert '"finish_reason":"stop"' not in body


def test_stream_without_done_is_finalised_promptly_with_usage(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-nodone", "omit_done")
    started = time.monotonic()
    text, chunks = _collect(llm, "nodone", stream_options={"include_usage": True})
    assert time.monotonic() - started < 3
    assert text == ANSWER
    assert chunks[-1].usage is not None  # type: ignore[attr-defined]


def test_failure_before_the_first_chunk_falls_back_transparently(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-streamdown", "unavailable")
    text, chunks = _collect(llm, "streamdown")
    assert text == ANSWER
    assert {c.model for c in chunks} == {"backup"}  # type: ignore[attr-defined]


def test_cached_answer_replays_as_a_stream(llm: LlmEnv) -> None:
    body = {
        "model": "cached",
        "messages": [{"role": "user", "content": "replay"}],
        "temperature": 0,
    }
    llm.server.post("/v1/chat/completions", json=body)
    chunks = list(
        llm.client().chat.completions.create(
            model="cached", messages=body["messages"], temperature=0, stream=True
        )
    )  # type: ignore[call-overload]
    text = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
    assert text == "Bastion fault upstream says: replay"
