"""Whatever JSON a client sends, the OpenAI request check passes it or raises InvalidRequest
naming a param: never any other exception (which would be a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.contracts.openai import OpenAIRequestCheck
from bastion.errors import InvalidRequest

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ROLES = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x"])
PART_TYPES = st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "other"])
PART = st.fixed_dictionaries(
    {"type": PART_TYPES},
    optional={
        "text": JSON,
        "image_url": JSON,
        "input_audio": JSON,
        "file": JSON,
        "refusal": JSON,
    },
)
MESSAGE = st.fixed_dictionaries(
    {"role": ROLES | JSON},
    optional={
        "content": st.text(max_size=5) | st.lists(PART, max_size=3) | JSON,
        "name": JSON,
        "tool_call_id": JSON,
        "tool_calls": JSON,
        "function_call": JSON,
        "refusal": JSON,
        "audio": JSON,
        "extra": JSON,
    },
)
FIELDS = [
    "temperature",
    "top_p",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "tools",
    "tool_choice",
    "response_format",
    "stream",
    "stream_options",
    "seed",
    "user",
    "metadata",
    "functions",
    "function_call",
    "prediction",
    "modalities",
    "prompt",
    "input",
    "dimensions",
    "encoding_format",
    "best_of",
    "echo",
    "suffix",
]
BODY = st.fixed_dictionaries(
    {"model": st.just("m") | JSON, "messages": st.lists(MESSAGE, max_size=3) | JSON},
    optional={name: JSON for name in FIELDS},
)  # fmt: skip
CHECKS = [
    OpenAIRequestCheck(max_tokens=100),
    OpenAIRequestCheck(max_tokens=100, unknown_fields="refuse"),
]


@hypothesis.settings(max_examples=200, deadline=None, derandomize=True, database=None)
@hypothesis.given(body=BODY, kind=st.sampled_from(["chat", "completions", "embeddings"]))
def test_any_body_is_accepted_or_refused_naming_a_param(body: dict[str, Any], kind: Any) -> None:
    for check in CHECKS:
        try:
            check.check(kind, body)
        except InvalidRequest as exc:
            param = exc.details["field"]
            assert isinstance(param, str) and exc.message.startswith(f"{param}: ")
