"""Answers say what happened, on the OpenAI routes through a real server and the openai SDK:
a review fallback or correction is a chat completion (streamed when asked) carrying its
review id; an LLM answer's confidence comes from its token log-probabilities, so escalation
runs from a cheap group to a strong one to a human; streamed answers reach the prediction log.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import yaml
from openai.types.chat import ChatCompletion

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.llm_env import FAST, LlmEnv
from tests.e2e.server import make_server

pytestmark = pytest.mark.e2e

SORRY = "A person will look at this and get back to you."
GROUPS = ("chat", "strong", "cheap", "rvstatic", "rvhold")
POLICIES: list[dict[str, Any]] = [
    {
        "deployment": "rvstatic",
        "confidence_below": 0.5,
        "fallback": "static",
        "fallback_output": SORRY,
    },
    {
        "deployment": "rvhold",
        "confidence_below": 0.5,
        "mode": "hold",
        "hold_s": 20,
        "fallback": "static",
        "fallback_output": SORRY,
    },
    {
        "deployment": "cheap",
        "confidence_below": 0.6,
        "fallback": "static",
        "fallback_output": SORRY,
        "escalate_to": {"to": "strong", "min_confidence": 0.8},
    },
]
MESSAGES: Any = [{"role": "user", "content": "where is my parcel"}]


def _config(base_url: str) -> dict[str, Any]:
    groups = [
        {
            "name": name,
            "upstreams": [{"base_url": base_url, "model": f"m-{name}", "timeouts": FAST}],
        }
        for name in GROUPS
    ]
    return {
        "demo": False,
        "llm": {"groups": groups},
        "review": {"hold_poll_interval_s": 0.1, "policies": POLICIES},
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlmEnv]:
    root = tmp_path_factory.mktemp("answers")
    with running_upstream(FaultUpstream()) as upstream:
        cfg = root / "bastion.yaml"
        cfg.write_text(yaml.safe_dump(_config(upstream.base_url)))
        server = make_server(root / "data", BASTION_CONFIG=str(cfg))
        server.start()
        try:
            yield LlmEnv(upstream, server)
        finally:
            server.stop()


def _pending(env: LlmEnv, group: str) -> list[dict[str, Any]]:
    listed = env.server.get(f"/v1/review/items?deployment={group}&status=pending")
    assert listed.status_code == 200, listed.text
    return list(listed.json()["data"])


def test_a_static_review_fallback_is_a_chat_completion_streamed_or_not(env: LlmEnv) -> None:
    env.upstream.set_fault("m-rvstatic", "low_confidence", confidence=0.2)
    client = env.client()
    raw = client.chat.completions.with_raw_response.create(model="rvstatic", messages=MESSAGES)
    answer = raw.parse()
    assert isinstance(answer, ChatCompletion)  # today: a bare str
    assert answer.choices[0].message.content == SORRY
    assert answer.model == "rvstatic" and answer.choices[0].logprobs is None
    review_id = raw.headers["x-bastion-review-id"]
    assert review_id.startswith("rev_")
    assert raw.headers["x-bastion-review"] == "pending"
    assert raw.headers["x-bastion-fallback"] == "review"
    assert review_id in {i["id"] for i in _pending(env, "rvstatic")}

    streamed = client.chat.completions.with_raw_response.create(
        model="rvstatic", messages=MESSAGES, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
    assert text == SORRY
    assert streamed.headers["x-bastion-review-id"].startswith("rev_")

    env.upstream.clear("m-rvstatic")  # confident again: the model's own words, unreviewed
    sure = client.chat.completions.with_raw_response.create(model="rvstatic", messages=MESSAGES)
    assert "where is my parcel" in (sure.parse().choices[0].message.content or "")
    assert "x-bastion-review" not in sure.headers
    assert sure.parse().choices[0].logprobs is None  # asked for by Bastion, not by the client


def test_a_hold_mode_correction_is_the_completion_the_client_receives(env: LlmEnv) -> None:
    env.upstream.set_fault("m-rvhold", "low_confidence", confidence=0.1)
    client = env.client(timeout=30)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(
            client.chat.completions.with_raw_response.create, model="rvhold", messages=MESSAGES
        )
        deadline = time.monotonic() + 15
        while not (items := _pending(env, "rvhold")):
            assert time.monotonic() < deadline, env.server.log()
            time.sleep(0.1)
        item_id = items[0]["id"]
        assert env.server.post(f"/v1/review/items/{item_id}/claim").status_code == 200
        decided = env.server.post(
            f"/v1/review/items/{item_id}/decide",
            json={"action": "correct", "output": "It ships on Monday.", "reason": "checked"},
        )
        assert decided.status_code == 200, decided.text
        raw = held.result(timeout=30)
    answer = raw.parse()
    assert isinstance(answer, ChatCompletion)
    assert answer.choices[0].message.content == "It ships on Monday."
    assert answer.model == "rvhold"
    assert raw.headers["x-bastion-review"] == "decided"
    assert raw.headers["x-bastion-review-id"] == item_id


def test_escalation_runs_from_a_cheap_group_to_a_strong_one_to_a_human(env: LlmEnv) -> None:
    env.upstream.set_fault("m-cheap", "low_confidence", confidence=0.3)
    client = env.client()
    raw = client.chat.completions.with_raw_response.create(model="cheap", messages=MESSAGES)
    answer = raw.parse()
    assert raw.headers["x-bastion-review"] == "escalated"
    assert raw.headers["x-bastion-fallback"] == "review"
    assert (raw.headers["x-bastion-model"], raw.headers["x-bastion-model-version"]) == (
        "strong",
        "1",
    )
    assert answer.model == "strong" and "where is my parcel" in str(answer.choices[0].message)
    assert env.requests("m-strong") == 1

    env.upstream.set_fault("m-strong", "low_confidence", confidence=0.5)  # below 0.8: a human
    raw = client.chat.completions.with_raw_response.create(model="cheap", messages=MESSAGES)
    assert raw.parse().choices[0].message.content == SORRY
    assert raw.headers["x-bastion-review"] == "pending"
    item = env.server.get(f"/v1/review/items/{raw.headers['x-bastion-review-id']}").json()
    assert item["triggers"] == ["confidence"]
    assert item["confidence"] == pytest.approx(0.3)
    assert item["escalation"]["to"] == "strong"
    assert item["escalation"]["confidence"] == pytest.approx(0.5)

    env.upstream.clear("m-cheap")
    sure = client.chat.completions.with_raw_response.create(model="cheap", messages=MESSAGES)
    assert sure.headers["x-bastion-model"] == "cheap" and "x-bastion-review" not in sure.headers


def test_streamed_answers_reach_the_prediction_log_like_unstreamed_ones(env: LlmEnv) -> None:
    ids = []
    for stream in (True, False, True):
        with httpx.stream(
            "POST",
            env.server.url + "/v1/chat/completions",
            json={"model": "chat", "messages": MESSAGES, "stream": stream},
            headers=env.server.auth,
            timeout=15,
        ) as response:
            assert response.status_code == 200
            response.read()
            ids.append(response.headers["x-request-id"])
    for request_id in ids:  # feedback needs the logged prediction (404 until it is written)
        deadline = time.monotonic() + 15
        while True:
            given = env.server.post("/v1/feedback", json={"request_id": request_id, "score": 1})
            if given.status_code == 201 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert given.status_code == 201, given.text


def test_the_sdk_raises_its_usual_error_on_a_model_bastion_does_not_serve(env: LlmEnv) -> None:
    with pytest.raises(openai.NotFoundError):
        env.client().chat.completions.create(model="nope", messages=MESSAGES)
    with pytest.raises(openai.NotFoundError) as unsupported:  # docs/http.md: not served
        env.client().images.generate(prompt="a parcel")
    assert unsupported.value.code == "not_found"
