"""OpenAI request bodies checked field by field, before anything is reserved or charged."""

from __future__ import annotations

from typing import Any, Literal

from bastion.contracts.openai import shapes
from bastion.contracts.openai.checks import (
    Check,
    array_of,
    boolean,
    integer_in,
    is_int,
    kind,
    nullable,
    number_in,
    obj,
    one_of,
    refuse,
    string,
    string_map,
)
from bastion.contracts.openai.messages import messages

Kind = Literal["chat", "completions", "embeddings"]
UnknownFields = Literal["forward", "refuse"]

_NAMES = {
    "chat": "chat completions",
    "completions": "completions",
    "embeddings": "embeddings",
}
_INT64 = integer_in(-(2**63), 2**63 - 1)
_PENALTY = nullable(number_in(-2, 2))
_OPT_STRING = nullable(string)


def model(value: Any, param: str) -> None:
    if not isinstance(value, str) or not value:
        refuse(param, "the model (group or deployment) name is required, as a string")


def _token_ids(value: Any, param: str) -> None:
    if not is_int(value) or value < 0:
        refuse(param, f"token ids are non-negative integers, got {kind(value)}")


def prompt_like(value: Any, param: str) -> None:
    """A string, or a non-empty array of strings, of token ids, or of token-id arrays."""
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not value:
        refuse(param, "must be a string or a non-empty array of strings or token ids")
    first = value[0]
    if type(first) is str and all(type(x) is str for x in value):
        return  # the common case: a batch of texts
    item: Check
    if isinstance(first, str):
        item = string
    elif isinstance(first, list):
        item = array_of(_token_ids, min_items=1)
    else:
        item = _token_ids
    for i, x in enumerate(value):
        item(x, f"{param}[{i}]")


def _common(max_tokens: int) -> dict[str, Check]:
    return {
        "model": model,
        "frequency_penalty": _PENALTY,
        "presence_penalty": _PENALTY,
        "logit_bias": nullable(shapes.logit_bias),
        "max_tokens": nullable(integer_in(1, max_tokens)),
        "n": nullable(integer_in(1, 128)),
        "seed": nullable(_INT64),
        "stop": nullable(shapes.stop),
        "stream": nullable(boolean),
        "stream_options": nullable(shapes.stream_options),
        "temperature": nullable(number_in(0, 2)),
        "top_p": nullable(number_in(0, 1)),
        "user": _OPT_STRING,
    }


def _chat(max_tokens: int) -> dict[str, Check]:
    return {
        **_common(max_tokens),
        "audio": nullable(obj),
        "function_call": shapes.function_call,
        "functions": shapes.functions,
        "logprobs": nullable(boolean),
        "max_completion_tokens": nullable(integer_in(1, max_tokens)),
        "metadata": nullable(string_map),
        "modalities": nullable(array_of(one_of("text", "audio"))),
        "parallel_tool_calls": nullable(boolean),
        "prediction": nullable(shapes.prediction),
        "prompt_cache_key": _OPT_STRING,
        "reasoning_effort": _OPT_STRING,
        "response_format": nullable(shapes.response_format),
        "safety_identifier": _OPT_STRING,
        "service_tier": _OPT_STRING,
        "store": nullable(boolean),
        "tool_choice": nullable(shapes.tool_choice),
        "tools": nullable(shapes.tools),
        "top_logprobs": nullable(integer_in(0, 20)),
        "verbosity": _OPT_STRING,
        "web_search_options": nullable(obj),
    }


def _completions(max_tokens: int) -> dict[str, Check]:
    return {
        **_common(max_tokens),
        "prompt": prompt_like,
        "best_of": nullable(integer_in(0, 20)),
        "echo": nullable(boolean),
        "logprobs": nullable(integer_in(0, 5)),
        "suffix": _OPT_STRING,
    }


_EMBEDDINGS: dict[str, Check] = {
    "model": model,
    "input": prompt_like,
    "encoding_format": one_of("float", "base64"),
    "dimensions": integer_in(1),
    "user": _OPT_STRING,
}
_REQUIRED: dict[Kind, tuple[str, ...]] = {
    "chat": ("model", "messages"),
    "completions": ("model", "prompt"),
    "embeddings": ("model", "input"),
}


class OpenAIRequestCheck:
    """Checks OpenAI request bodies: each documented field's type and range, the shapes of
    messages, tools, tool_choice and response_format. Fields it does not know are forwarded
    (``unknown_fields="forward"``: providers have their own) or refused (``"refuse"``).
    Built once at start-up; ``check`` does no I/O and allocates little."""

    def __init__(self, *, max_tokens: int, unknown_fields: UnknownFields = "forward") -> None:
        self._closed = unknown_fields == "refuse"
        self._tables: dict[Kind, dict[str, Check]] = {
            "chat": _chat(max_tokens),
            "completions": _completions(max_tokens),
            "embeddings": _EMBEDDINGS,
        }

    def check(self, kind: Kind, body: dict[str, Any]) -> None:
        """Raise ``InvalidRequest`` (``details["field"]`` = the param) for the first fault."""
        for key in _REQUIRED[kind]:
            if key not in body:
                refuse(key, f"is required in a {_NAMES[kind]} request")
        table = self._tables[kind]
        for key, value in body.items():
            check = table.get(key)
            if check is not None:
                check(value, key)
            elif key == "messages" and kind == "chat":
                messages(value, key, closed=self._closed)
            elif self._closed:
                refuse(
                    key,
                    f"is not a field of OpenAI's {_NAMES[kind]} request, and this gateway "
                    "refuses unknown fields (openai.unknown_fields: refuse); remove it",
                )
        if kind == "chat" and body.get("top_logprobs") is not None and not body.get("logprobs"):
            refuse("top_logprobs", "needs logprobs: true")
