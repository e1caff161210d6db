"""The LLM gateway through a real server and the real openai SDK, one fault at a time.

Each scenario uses its own model group (see llm_env.GROUPS) so breaker state never leaks.
"""

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


def _raw(llm: LlmEnv, model: str, **extra: object) -> httpx.Response:
    return llm.server.post(
        "/v1/chat/completions", json={"model": model, "messages": MESSAGES, **extra}
    )


def test_healthy_group_answers_with_usage_and_cost(llm: LlmEnv) -> None:
    res = llm.client().chat.completions.create(model="ok", messages=MESSAGES)  # type: ignore[arg-type]
    assert res.choices[0].message.content == ANSWER
    assert res.model == "ok"
    assert res.usage is not None and res.usage.total_tokens > 0
    r = _raw(llm, "ok")
    assert "x-bastion-fallback" not in r.headers


def test_completions_and_models(llm: LlmEnv) -> None:
    res = llm.client().completions.create(model="ok", prompt="say hi")
    assert res.choices[0].text
    ids = {m.id for m in llm.client().models.list()}
    assert {"ok", "backup", "down"} <= ids


@pytest.mark.parametrize(
    ("group", "fault", "params"),
    [
        ("retry429", "rate_limit", {"times": 1, "retry_after": 0}),
        ("retry500", "error_once", {}),
    ],
)
def test_transient_failures_are_retried(
    llm: LlmEnv, group: str, fault: str, params: dict[str, object]
) -> None:
    model = f"m-{group}"
    llm.upstream.set_fault(model, fault, **params)
    before = llm.requests(model)
    res = llm.client().chat.completions.create(model=group, messages=MESSAGES)  # type: ignore[arg-type]
    assert res.choices[0].message.content == ANSWER
    assert llm.requests(model) - before == 2


@pytest.mark.parametrize(
    ("group", "fault", "params"),
    [
        ("down", "unavailable", {}),
        ("reset", "reset", {}),
        ("hang", "hang", {}),
        ("slowstart", "delay_first_token", {"seconds": 3}),
    ],
)
def test_persistent_failures_fall_back(
    llm: LlmEnv, group: str, fault: str, params: dict[str, object]
) -> None:
    llm.upstream.set_fault(f"m-{group}", fault, **params)
    started = time.monotonic()
    raw = llm.client().chat.completions.with_raw_response.create(model=group, messages=MESSAGES)  # type: ignore[arg-type]
    res = raw.parse()
    assert time.monotonic() - started < 5
    assert res.choices[0].message.content == ANSWER
    assert res.model == "backup"
    assert raw.headers["x-bastion-fallback"] == "backup"


@pytest.mark.parametrize(
    ("group", "fault", "params", "exc", "status"),
    [
        ("solo503", "unavailable", {}, openai.InternalServerError, 502),
        ("solo429", "rate_limit", {"retry_after": 30}, openai.RateLimitError, 429),
        ("solohang", "hang", {}, openai.APIStatusError, 504),
    ],
)
def test_no_fallback_means_a_clean_bounded_error(
    llm: LlmEnv,
    group: str,
    fault: str,
    params: dict[str, object],
    exc: type[Exception],
    status: int,
) -> None:
    llm.upstream.set_fault(f"m-{group}", fault, **params)
    started = time.monotonic()
    with pytest.raises(exc) as info:
        llm.client().chat.completions.create(model=group, messages=MESSAGES)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert info.value.body["type"]  # type: ignore[attr-defined,index]


def test_context_length_goes_to_the_larger_model_without_retry(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-ctx", "context_length")
    before = llm.requests("m-ctx")
    res = llm.client().chat.completions.create(model="ctx", messages=MESSAGES)  # type: ignore[arg-type]
    assert res.model == "large"
    assert llm.requests("m-ctx") - before == 1


def test_content_policy_is_not_retried_or_rerouted(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-policy", "content_policy")
    before = llm.requests("m-policy"), llm.requests("m-backup")
    with pytest.raises(openai.BadRequestError) as info:
        llm.client().chat.completions.create(model="policy", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.body["type"] == "content_policy_violation"  # type: ignore[index]
    assert (llm.requests("m-policy"), llm.requests("m-backup")) == (before[0] + 1, before[1])


def test_static_fallback_is_the_last_resort(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-static", "unavailable")
    raw = llm.client().chat.completions.with_raw_response.create(model="static", messages=MESSAGES)  # type: ignore[arg-type]
    assert raw.parse().choices[0].message.content == "Sorry, try again later."
    assert raw.headers["x-bastion-fallback"] == "static"


def test_breaker_opens_and_shows_in_admin(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-down", "unavailable")
    for _ in range(6):
        llm.client().chat.completions.create(model="down", messages=MESSAGES)  # type: ignore[arg-type]
    groups = {g["group"]: g for g in llm.server.get("/v1/admin/upstreams").json()["data"]}
    assert groups["down"]["upstreams"][0]["breaker"]["state"] == "open"
    before = llm.requests("m-down")
    llm.client().chat.completions.create(model="down", messages=MESSAGES)  # type: ignore[arg-type]
    assert llm.requests("m-down") == before  # an open breaker is not even tried


def test_flapping_primary_is_used_again_after_it_recovers(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-flappy", "flap", down_s=1.5, once=True)
    seen: set[str] = set()
    for _ in range(5):
        seen.add(llm.client().chat.completions.create(model="flappy", messages=MESSAGES).model)  # type: ignore[arg-type]
    assert seen == {"backup"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        model = llm.client().chat.completions.create(model="flappy", messages=MESSAGES).model  # type: ignore[arg-type]
        if model == "flappy":
            break
        time.sleep(0.1)
    assert model == "flappy"


def test_thousand_requests_with_primary_down_zero_failures(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-outage", "unavailable")

    async def run() -> list[str]:
        client = llm.aclient()
        gate = asyncio.Semaphore(32)

        async def one() -> str:
            async with gate:
                res = await client.chat.completions.create(model="outage", messages=MESSAGES)  # type: ignore[arg-type]
                return res.choices[0].message.content or ""

        try:
            return await asyncio.gather(*(one() for _ in range(1000)))
        finally:
            await client.close()

    answers = asyncio.run(run())
    assert answers.count(ANSWER) == 1000


def test_load_is_balanced_across_upstreams(llm: LlmEnv) -> None:
    before = llm.requests("m-pair-a"), llm.requests("m-pair-b")
    for _ in range(20):
        llm.client().chat.completions.create(model="pair", messages=MESSAGES)  # type: ignore[arg-type]
    a, b = llm.requests("m-pair-a") - before[0], llm.requests("m-pair-b") - before[1]
    assert a + b == 20 and a > 0 and b > 0


def test_cache_hits_skip_the_upstream_and_never_cross_tenants(llm: LlmEnv) -> None:
    body = {
        "model": "cached",
        "messages": [{"role": "user", "content": "cache me"}],
        "temperature": 0,
    }
    first = llm.server.post("/v1/chat/completions", json=body)
    before = llm.requests("m-cached")
    second = llm.server.post("/v1/chat/completions", json=body)
    assert second.headers.get("x-bastion-cache") == "hit"
    assert second.json()["choices"] == first.json()["choices"]
    assert llm.requests("m-cached") == before
    hot = llm.server.post("/v1/chat/completions", json={**body, "temperature": 0.7})
    assert hot.headers.get("x-bastion-cache") != "hit"
    other = llm.server.post(
        "/v1/admin/keys", json={"name": "t2", "roles": ["client"], "tenant": "other"}
    ).json()["key"]
    r = llm.server.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {other}"}
    )
    assert r.status_code == 200 and r.headers.get("x-bastion-cache") != "hit"


def test_semantic_cache_answers_a_close_paraphrase(llm: LlmEnv) -> None:
    def ask(question: str) -> httpx.Response:
        return llm.server.post(
            "/v1/chat/completions",
            json={
                "model": "semantic",
                "temperature": 0,
                "messages": [{"role": "user", "content": question}],
            },
        )

    first = ask("How do I reset my password?")
    assert first.headers.get("x-bastion-cache") != "hit"
    before = llm.requests("m-semantic")
    close = ask("how do i reset my password")
    assert close.headers.get("x-bastion-cache") == "semantic-hit"
    assert close.json()["choices"] == first.json()["choices"]
    assert llm.requests("m-semantic") == before
    other = ask("What is the capital of France?")
    assert other.headers.get("x-bastion-cache") not in ("hit", "semantic-hit")
    assert llm.requests("m-semantic") == before + 1


def test_deadline_header_bounds_the_call(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-solohang", "hang")
    started = time.monotonic()
    r = llm.server.post(
        "/v1/chat/completions",
        json={"model": "solohang", "messages": MESSAGES},
        headers={**llm.server.auth, "x-bastion-timeout": "300ms"},
    )
    assert time.monotonic() - started < 2
    assert r.status_code == 504 and r.json()["error"]["type"] == "timeout"
    bad = llm.server.post(
        "/v1/chat/completions",
        json={"model": "ok", "messages": MESSAGES},
        headers={**llm.server.auth, "x-bastion-timeout": "soon"},
    )
    assert bad.status_code == 400


def test_backpressure_answers_a_fast_503(llm: LlmEnv) -> None:
    llm.upstream.set_fault("m-narrow", "slow", seconds=0.3)

    async def run() -> list[int]:
        async with httpx.AsyncClient(headers=llm.server.auth, timeout=10) as client:
            body = {"model": "narrow", "messages": MESSAGES}
            rs = await asyncio.gather(
                *(client.post(llm.server.url + "/v1/chat/completions", json=body) for _ in range(4))
            )
            overloaded = [r for r in rs if r.status_code == 503]
            assert all(r.headers.get("retry-after") for r in overloaded)
            assert all(r.json()["error"]["type"] == "overloaded" for r in overloaded)
            return sorted(r.status_code for r in rs)

    codes = asyncio.run(run())
    assert codes.count(200) == 2 and codes.count(503) == 2


def test_bad_requests_are_400s(llm: LlmEnv) -> None:
    c = llm.client()
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="nope", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="ok", messages=[])
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="ok", messages=MESSAGES, max_tokens=-5)  # type: ignore[arg-type]
    r = llm.server.post("/v1/chat/completions", json={"messages": MESSAGES})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"


def test_upstream_embeddings(llm: LlmEnv) -> None:
    res = llm.client().embeddings.create(model="emb", input=["a", "b"])
    assert len(res.data) == 2 and len(res.data[0].embedding) > 0


def test_server_is_healthy_after_the_chaos(llm: LlmEnv) -> None:
    llm.upstream.clear()
    assert llm.server.get("/readyz").status_code == 200
    res = llm.client().chat.completions.create(model="ok", messages=MESSAGES)  # type: ignore[arg-type]
    assert res.choices[0].message.content == ANSWER
