"""Strict OpenAI request validation through a real server: a refused body names its ``param``
in OpenAI's error shape, reaches no upstream and charges nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

TENANT = "validation"
MSG = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultUpstream]:
    with running_upstream() as up:
        yield up


def _config(base_url: str, unknown_fields: str) -> dict[str, Any]:
    member = {"name": "u", "base_url": base_url, "model": "m-v", "output_price_per_1m": 1000.0}
    emb = {"name": "e", "base_url": base_url, "model": "m-emb", "input_price_per_1m": 1000.0}
    return {
        "demo": False,
        "openai": {"unknown_fields": unknown_fields},
        "llm": {
            "groups": [{"name": "v", "upstreams": [member]}, {"name": "emb", "upstreams": [emb]}]
        },
        "governance": {
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_usd": 5.0}]},
        },
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, upstream: FaultUpstream) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("openai-validation")
    (root / "bastion.yaml").write_text(yaml.safe_dump(_config(upstream.base_url, "refuse")))
    srv = make_server(root / "srv", BASTION_CONFIG=str(root / "bastion.yaml")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    r = server.post("/v1/admin/keys", json={"name": "v", "roles": ["client"], "tenant": TENANT})
    assert r.status_code == 201, r.text
    return openai.OpenAI(base_url=server.url + "/v1", api_key=r.json()["key"], max_retries=0)


def _budget(server: Server) -> dict[str, Any]:
    budgets = server.get(f"/v1/costs/budgets?tenant={TENANT}").json()["data"]
    (budget,) = [b for b in budgets if b["scope"] == "tenant"]
    return dict(budget)


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
    ({"messages": MSG, "temperature": -1}, "temperature"),
    ({"messages": MSG, "temperature": "0.5"}, "temperature"),
    ({"messages": MSG, "top_p": 2}, "top_p"),
    ({"messages": MSG, "n": 0}, "n"),
    ({"messages": MSG, "max_tokens": 0}, "max_tokens"),
    ({"messages": MSG, "max_completion_tokens": 10**12}, "max_completion_tokens"),
    ({"messages": MSG, "presence_penalty": 3}, "presence_penalty"),
    ({"messages": MSG, "logprobs": "yes"}, "logprobs"),
    ({"messages": MSG, "logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"messages": MSG, "tools": [{"type": "function"}]}, "tools[0].function"),
    ({"messages": MSG, "tool_choice": "always"}, "tool_choice"),
    ({"messages": MSG, "response_format": {"type": "xml"}}, "response_format.type"),
    ({"messages": MSG, "extra_body": {"top_k": 5}}, "top_k"),  # unknown: refused here
]


@pytest.mark.parametrize(("extra", "param"), INVALID)
def test_invalid_chat_is_400_naming_the_param_and_charges_nothing(
    server: Server,
    client: openai.OpenAI,
    upstream: FaultUpstream,
    extra: dict[str, Any],
    param: str,
) -> None:
    before, calls = _budget(server), upstream.stats()["models"].get("m-v", {}).get("requests", 0)
    body = {"messages": extra.pop("messages"), **extra}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="v", **body)  # type: ignore[call-overload]
    err = info.value
    assert err.status_code == 400
    assert err.param == param
    assert isinstance(err.body, dict) and str(err.body["message"]).startswith(f"{param}: ")
    assert _budget(server) == before
    assert upstream.stats()["models"].get("m-v", {}).get("requests", 0) == calls


def test_a_valid_body_is_served_and_charged(server: Server, client: openai.OpenAI) -> None:
    before = _budget(server)
    reply = client.chat.completions.create(
        model="v", messages=[{"role": "user", "content": "hi"}], temperature=0.3, max_tokens=5
    )
    assert reply.choices[0].message.content
    after = _budget(server)
    assert after["spent_requests"] == before["spent_requests"] + 1


def test_invalid_completions_and_embeddings(
    server: Server, client: openai.OpenAI, upstream: FaultUpstream
) -> None:
    before = _budget(server)
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model="v", prompt="x", temperature=5)
    assert info.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="emb", input="x", dimensions=0)
    assert info.value.param == "dimensions"
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="emb", input=[], encoding_format="float")
    assert info.value.param == "input"
    assert _budget(server) == before
    assert upstream.stats()["models"].get("m-emb", {}).get("requests", 0) == 0
