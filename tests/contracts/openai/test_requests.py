# ruff: noqa: E501  (the table of invalid bodies reads best one case a line)
"""OpenAI request bodies: every documented field's type, range and shape, naming its param."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.contracts.openai import OpenAIRequestCheck
from bastion.errors import InvalidRequest

CHECK = OpenAIRequestCheck(max_tokens=10_000)
STRICT = OpenAIRequestCheck(max_tokens=10_000, unknown_fields="refuse")
MSG = [{"role": "user", "content": "hi"}]


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": MSG, **extra}


def _param(kind: Any, body: dict[str, Any], check: OpenAIRequestCheck = CHECK) -> str:
    with pytest.raises(InvalidRequest) as info:
        check.check(kind, body)
    param = info.value.details["field"]
    assert info.value.message.startswith(f"{param}: ")
    return str(param)


VALID_CHAT = [
    _chat(),
    _chat(temperature=0, top_p=1, n=2, max_tokens=1, max_completion_tokens=10_000),
    _chat(presence_penalty=-2, frequency_penalty=2.0, logprobs=True, top_logprobs=20),
    _chat(temperature=None, stop=None, user=None, seed=-5, stream=False),
    _chat(stop="\n", logit_bias={"50256": -100}, metadata={"a": "b"}, store=True),
    _chat(stream=True, stream_options={"include_usage": True}),
    _chat(
        tools=[
            {"type": "function", "function": {"name": "get_weather", "parameters": {}}},
            {"type": "custom", "custom": {"name": "grep"}},
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    ),
    _chat(tool_choice="required", response_format={"type": "json_object"}),
    _chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}),
    _chat(top_k=5, chat_template_kwargs={"x": 1}),  # a provider's own fields: forwarded
    {
        "model": "m",
        "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "system", "content": [{"type": "text", "text": "s"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:,", "detail": "low"}},
                    {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
                ],
                "name": "ann",
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        ],
    },
]


@pytest.mark.parametrize("body", VALID_CHAT)
def test_valid_chat_bodies_pass(body: dict[str, Any]) -> None:
    CHECK.check("chat", body)


INVALID_CHAT = [
    (_chat(messages=[{"role": "wizard", "content": "hi"}]), "messages[0].role"),
    (_chat(messages=[{"content": "hi"}]), "messages[0].role"),
    (_chat(messages=[{"role": "user", "content": 42}]), "messages[0].content"),
    (_chat(messages=[{"role": "user"}]), "messages[0].content"),
    (_chat(messages=[*MSG, {"role": "user", "content": [{"type": "x"}]}]), "messages[1].content[0].type"),
    (_chat(messages=[{"role": "user", "content": [{"type": "text"}]}]), "messages[0].content[0].text"),
    (_chat(messages=[{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}]), "messages[0].content[0].type"),
    (_chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]), "messages[0].content[0].image_url.url"),
    (_chat(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id"),
    (_chat(messages=[{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f"}}]}]), "messages[0].tool_calls[0].function.arguments"),
    (_chat(messages="hello"), "messages"),
    (_chat(messages=[]), "messages"),
    (_chat(messages=["hi"]), "messages[0]"),
    ({"model": "m"}, "messages"),
    ({"messages": MSG}, "model"),
    (_chat(model=3), "model"),
    (_chat(temperature=-0.1), "temperature"),
    (_chat(temperature=2.5), "temperature"),
    (_chat(temperature="0.5"), "temperature"),
    (_chat(temperature=True), "temperature"),
    (_chat(top_p=1.5), "top_p"),
    (_chat(n=0), "n"),
    (_chat(n=1.5), "n"),
    (_chat(max_tokens=0), "max_tokens"),
    (_chat(max_tokens=10_001), "max_tokens"),
    (_chat(max_completion_tokens=-1), "max_completion_tokens"),
    (_chat(presence_penalty=-2.1), "presence_penalty"),
    (_chat(frequency_penalty="high"), "frequency_penalty"),
    (_chat(logprobs="yes"), "logprobs"),
    (_chat(logprobs=True, top_logprobs=21), "top_logprobs"),
    (_chat(top_logprobs=3), "top_logprobs"),
    (_chat(stream="yes"), "stream"),
    (_chat(stream_options={"include_usage": "y"}), "stream_options.include_usage"),
    (_chat(stop=["a", "b", "c", "d", "e"]), "stop"),
    (_chat(stop=[1]), "stop[0]"),
    (_chat(logit_bias={"abc": 1}), "logit_bias.abc"),
    (_chat(logit_bias={"1": 101}), "logit_bias.1"),
    (_chat(seed="1"), "seed"),
    (_chat(user=5), "user"),
    (_chat(metadata={"a": 1}), "metadata.a"),
    (_chat(tools={"type": "function"}), "tools"),
    (_chat(tools=[{"type": "retrieval"}]), "tools[0].type"),
    (_chat(tools=[{"type": "function"}]), "tools[0].function"),
    (_chat(tools=[{"type": "function", "function": {"name": "bad name"}}]), "tools[0].function.name"),
    (_chat(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]), "tools[0].function.parameters"),
    (_chat(tool_choice="always"), "tool_choice"),
    (_chat(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name"),
    (_chat(tool_choice={"type": "nope"}), "tool_choice.type"),
    (_chat(response_format={"type": "xml"}), "response_format.type"),
    (_chat(response_format="json"), "response_format"),
    (_chat(response_format={"type": "json_schema"}), "response_format.json_schema"),
    (_chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "strict": "y"}}), "response_format.json_schema.strict"),
    (_chat(parallel_tool_calls=1), "parallel_tool_calls"),
    (_chat(modalities=["video"]), "modalities[0]"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param"), INVALID_CHAT)
def test_invalid_chat_bodies_name_their_param(body: dict[str, Any], param: str) -> None:
    assert _param("chat", body) == param


def test_unknown_fields_are_refused_only_when_configured() -> None:
    CHECK.check("chat", _chat(top_k=5))
    assert _param("chat", _chat(top_k=5), STRICT) == "top_k"
    odd = {"model": "m", "messages": [{"role": "user", "content": "x", "mood": "happy"}]}
    CHECK.check("chat", odd)
    assert _param("chat", odd, STRICT) == "messages[0].mood"
    STRICT.check("chat", VALID_CHAT[-1])  # every documented field passes the strict check


def test_completions_bodies() -> None:
    CHECK.check("completions", {"model": "m", "prompt": "x", "logprobs": 5, "echo": True})
    CHECK.check("completions", {"model": "m", "prompt": [[1, 2], [3]], "suffix": None})
    assert _param("completions", {"model": "m"}) == "prompt"
    assert _param("completions", {"model": "m", "prompt": 5}) == "prompt"
    assert _param("completions", {"model": "m", "prompt": ["a", 1]}) == "prompt[1]"
    assert _param("completions", {"model": "m", "prompt": "x", "logprobs": 6}) == "logprobs"
    assert _param("completions", {"model": "m", "prompt": "x", "best_of": "2"}) == "best_of"
    assert _param("completions", {"model": "m", "prompt": "x", "temperature": 3}) == "temperature"


def test_embeddings_bodies() -> None:
    CHECK.check("embeddings", {"model": "m", "input": ["a", "b"], "encoding_format": "base64"})
    CHECK.check("embeddings", {"model": "m", "input": [1, 2, 3], "dimensions": 8})
    assert _param("embeddings", {"model": "m"}) == "input"
    assert _param("embeddings", {"model": "m", "input": []}) == "input"
    assert _param("embeddings", {"model": "m", "input": {"a": 1}}) == "input"
    assert _param("embeddings", {"model": "m", "input": "a", "dimensions": 0}) == "dimensions"
    fmt = {"model": "m", "input": "a", "encoding_format": "int8"}
    assert _param("embeddings", fmt) == "encoding_format"
    assert _param("embeddings", {"model": "m", "input": "a", "x": 1}, STRICT) == "x"
