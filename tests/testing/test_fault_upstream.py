"""The fault upstream itself: deterministic answers, the control API, fault bookkeeping."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import numpy as np
import orjson
import pytest

from bastion.testing import Fault, FaultBook, FaultUpstream, pseudo_embedding, running_upstream


@pytest.fixture
async def server() -> AsyncIterator[FaultUpstream]:
    upstream = FaultUpstream(embedding_dim=12)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def http(server: FaultUpstream) -> AsyncIterator[aiohttp.ClientSession]:
    root = server.base_url.removesuffix("/v1")
    async with aiohttp.ClientSession(root, timeout=aiohttp.ClientTimeout(total=2)) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    async with http.post(path, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_chat_answer_is_deterministic_with_usage(http: aiohttp.ClientSession) -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "one two three"}]},
        ],
    }
    status, first = await post(http, "/v1/chat/completions", body)
    _, second = await post(http, "/v1/chat/completions", body)
    assert status == 200
    content = first["choices"][0]["message"]["content"]
    assert content == "Bastion fault upstream says: one two three"
    assert content == second["choices"][0]["message"]["content"]
    assert first["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    _, short = await post(http, "/v1/chat/completions", {**body, "max_tokens": 2})
    assert short["choices"][0]["finish_reason"] == "length"
    assert short["usage"]["completion_tokens"] == 2


async def test_stream_ends_with_done(http: aiohttp.ClientSession) -> None:
    body = {"model": "m", "prompt": "hi", "stream": True}
    async with http.post("/v1/completions", json=body) as resp:
        raw = await resp.read()
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = [e for e in raw.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert '"finish_reason":"stop"' in events[-2]


async def test_embeddings_are_deterministic_unit_vectors(http: aiohttp.ClientSession) -> None:
    status, answer = await post(http, "/v1/embeddings", {"model": "e", "input": ["a b", "c"]})
    assert status == 200
    vectors = [np.array(d["embedding"]) for d in answer["data"]]
    assert [v.shape for v in vectors] == [(12,), (12,)]
    assert np.allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-5)
    assert np.allclose(vectors[0], pseudo_embedding("a b", 12))
    assert answer["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    body = {"model": "e", "input": "a b", "dimensions": 4, "encoding_format": "base64"}
    _, encoded = await post(http, "/v1/embeddings", body)
    decoded = np.frombuffer(base64.b64decode(encoded["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, pseudo_embedding("a b", 4))


async def test_models_lists_configured_and_seen_models(http: aiohttp.ClientSession) -> None:
    await post(http, "/v1/embeddings", {"model": "seen", "input": "x"})
    async with http.get("/v1/models") as resp:
        names = [m["id"] for m in (await resp.json())["data"]]
    assert names == ["fake-chat", "fake-embed", "seen"]


async def test_bad_requests_get_openai_error_bodies(http: aiohttp.ClientSession) -> None:
    async with http.post("/v1/chat/completions", data=b"{nope") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["type"] == "invalid_request_error"
    status, body = await post(http, "/v1/chat/completions", {"messages": []})
    assert status == 400
    assert "model" in body["error"]["message"]
    assert (await post(http, "/v1/embeddings", {"model": "e", "input": 5}))[0] == 400
    status, body = await post(http, "/v1/embeddings", {"model": "e", "input": [1, 2, 3]})
    assert (status, len(body["data"])) == (200, 1)  # one input given as token ids


async def test_control_api(http: aiohttp.ClientSession, server: FaultUpstream) -> None:
    status, body = await post(
        http, "/_control/faults", {"model": "m", "fault": "error", "status": 418}
    )
    assert (status, body["fault"]) == (200, "error")
    async with http.get("/_control/faults") as resp:
        assert await resp.json() == {"m": {"fault": "error", "times": None}}
    status, body = await post(http, "/v1/chat/completions", {"model": "m", "messages": []})
    assert status == 418
    assert set(body["error"]) == {"message", "type", "param", "code"}
    await post(http, "/v1/chat/completions", {"model": "other", "messages": []})
    async with http.get("/_control/stats") as resp:
        stats = await resp.json()
    assert stats["models"] == {
        "m": {"requests": 1, "faulted": 1},
        "other": {"requests": 1, "faulted": 0},
    }
    async with http.delete("/_control/faults") as resp:
        assert resp.status == 200
    assert server.faults.faults() == {}
    async with http.delete("/_control/stats") as resp:
        assert resp.status == 200
    assert server.stats()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "fault": "explode"},
        {"model": "m", "fault": "rate_limit", "after": 3},
        {"model": "m", "fault": "slow", "seconds": "soon"},
        {"model": "m", "fault": "slow", "seconds": -1},
        {"fault": "hang"},
        ["not", "an", "object"],
    ],
)
async def test_control_api_rejects_bad_faults(http: aiohttp.ClientSession, body: Any) -> None:
    status, _ = await post(http, "/_control/faults", body)
    assert status == 400


async def test_rate_limit_times_then_healthy_with_retry_after(
    http: aiohttp.ClientSession, server: FaultUpstream
) -> None:
    server.set_fault("m", "rate_limit", retry_after=1.5, times=2)
    statuses = []
    for _ in range(3):
        async with http.post("/v1/chat/completions", json={"model": "m"}) as resp:
            statuses.append(resp.status)
            if resp.status == 429:
                assert resp.headers["Retry-After"] == "1.5"
    assert statuses == [429, 429, 200]


async def test_wildcard_fault_and_specific_override(
    http: aiohttp.ClientSession, server: FaultUpstream
) -> None:
    server.set_fault("*", "unavailable")
    server.set_fault("special", "context_length")
    assert (await post(http, "/v1/embeddings", {"model": "any", "input": "x"}))[0] == 503
    status, body = await post(http, "/v1/embeddings", {"model": "special", "input": "x"})
    assert (status, body["error"]["code"]) == (400, "context_length_exceeded")
    server.clear("*")
    assert (await post(http, "/v1/embeddings", {"model": "any", "input": "x"}))[0] == 200


async def test_stop_is_prompt_with_hanging_and_stalled_requests(server: FaultUpstream) -> None:
    server.set_fault("h", "hang")
    server.set_fault("s", "stall_stream", after=1)
    async with aiohttp.ClientSession() as session:

        async def call(model: str) -> Any:
            body = {"model": model, "stream": model == "s"}
            async with session.post(server.base_url + "/chat/completions", json=body) as resp:
                return await resp.read()

        calls = [asyncio.create_task(call(m)) for m in ("h", "s")]
        await asyncio.sleep(0.05)
        async with asyncio.timeout(2):
            await server.stop()
            results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, aiohttp.ClientError) for r in results)


def test_fault_parsing_and_flap_schedule() -> None:
    assert Fault.parse("error_once", {}).times == 1
    assert Fault.parse("unavailable", {}).status == 503
    flap = Fault.parse("flap", {"down_s": 1, "up_s": 2})
    start = flap.started_at
    assert [flap.active(start + t) for t in (0.5, 1.5, 2.9, 3.5)] == [True, False, False, True]
    once = Fault.parse("flap", {"down_s": 1, "once": True})
    assert [once.active(once.started_at + t) for t in (0.5, 1.5, 3.5)] == [True, False, False]
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.parse("nope", {})


def test_stream_only_faults_spare_plain_requests() -> None:
    book = FaultBook()
    book.set("m", "stall_stream", after=1, times=1)
    assert book.take("m", stream=False) is None
    assert book.take("m", stream=True) is not None
    assert book.take("m", stream=True) is None
    assert book.stats()["models"]["m"] == {"requests": 3, "faulted": 1}


def test_running_upstream_serves_sync_clients() -> None:
    with running_upstream() as server:
        server.set_fault("broken", "error", status=500, times=1)
        with httpx.Client(base_url=server.base_url, timeout=2) as client:
            ok = client.post("/chat/completions", json={"model": "m", "messages": []})
            assert ok.json()["object"] == "chat.completion"
            assert client.post("/chat/completions", json={"model": "broken"}).status_code == 500
            assert client.post("/chat/completions", json={"model": "broken"}).status_code == 200
            assert client.get("/models").status_code == 200
        url = server.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models", timeout=1)


def test_set_fault_rejects_unknown_parameters() -> None:
    with pytest.raises(ValueError, match="takes"):
        FaultUpstream().set_fault("m", "hang", seconds=1)


async def _streamed_text(http: aiohttp.ClientSession, body: Any) -> str:
    async with http.post("/v1/chat/completions", json={**body, "stream": True}) as resp:
        raw = await resp.read()
    chunks = [orjson.loads(e[6:]) for e in raw.decode().split("\n\n") if e[6:7] == "{"]
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])


async def test_a_prefill_of_the_answer_is_continued_and_any_other_ignored(
    http: aiohttp.ClientSession,
) -> None:
    question = [{"role": "user", "content": "one two"}]
    prefill = [*question, {"role": "assistant", "content": "Bastion fault upstream"}]
    rest = await _streamed_text(http, {"model": "m", "messages": prefill})
    assert rest == " says: one two"
    _, whole = await post(http, "/v1/chat/completions", {"model": "m", "messages": prefill})
    assert whole["choices"][0]["message"]["content"] == "says: one two"
    assert whole["usage"]["completion_tokens"] == 3
    limited = await _streamed_text(http, {"model": "m", "messages": prefill, "max_tokens": 2})
    assert limited == " says: one"  # max_tokens counts the new tokens only
    other = [*question, {"role": "assistant", "content": "Bastion faul"}]  # not at a word end
    assert await _streamed_text(http, {"model": "m", "messages": other}) == (
        "Bastion fault upstream says: one two"
    )


async def test_refuse_prefill_and_different_answer(
    http: aiohttp.ClientSession, server: FaultUpstream
) -> None:
    question = [{"role": "user", "content": "q"}]
    prefill = [*question, {"role": "assistant", "content": "Bastion"}]
    server.set_fault("m", "refuse_prefill")
    status, body = await post(http, "/v1/chat/completions", {"model": "m", "messages": prefill})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, _ = await post(http, "/v1/chat/completions", {"model": "m", "messages": question})
    assert status == 200  # only a prefill is refused
    server.set_fault("m", "different_answer", times=1)
    assert await _streamed_text(http, {"model": "m", "messages": question}) == (
        "Quite another answer: q"
    )
    assert await _streamed_text(http, {"model": "m", "messages": question}) == (
        "Bastion fault upstream says: q"
    )
