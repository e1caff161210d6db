"""Per-request cost of the strict OpenAI request check (issue 15): a micro-benchmark.

Times ``OpenAIRequestCheck.check`` on three bodies — a one-message chat, a ten-turn chat
with tools and a json_schema response format, a batch of 16 embedding inputs — beside what
the route checked before (the model name, ``stream``, each message's role being a string,
``max_tokens``) and the ``orjson.loads`` of the same body, which every request already pays.
Run: ``python -m bench.openai_validation``. Prints CPU µs per call (median of 7 runs).
"""

from __future__ import annotations

import statistics
import time
import timeit
from typing import Any

import orjson

from bastion.contracts.openai import OpenAIRequestCheck, UnknownFields

SMALL: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hello in French."}],
    "temperature": 0.2,
    "max_tokens": 64,
}
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
LARGE: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [{"role": "system", "content": "You are terse."}]
    + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " * 40}
        for i in range(10)
    ],
    "tools": [TOOL] * 4,
    "tool_choice": "auto",
    "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {}}},
    "temperature": 0.7,
    "top_p": 0.9,
    "max_completion_tokens": 512,
    "stream": True,
    "stream_options": {"include_usage": True},
    "user": "u-42",
}
EMBED: dict[str, Any] = {"model": "text-embedding-3-small", "input": ["a sentence"] * 16}


def _before(body: dict[str, Any]) -> None:
    """The checks the route and the LLM target made before issue 15."""
    model = body.get("model")
    assert isinstance(model, str) and model
    assert isinstance(body.get("stream", False), bool)
    for m in body.get("messages") or []:
        assert isinstance(m, dict) and isinstance(m.get("role"), str)
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    assert max_tokens is None or (isinstance(max_tokens, int) and max_tokens >= 1)


def _us(fn: Any, number: int = 20_000) -> float:
    # CPU time of this process: on a shared machine, wall time mostly measures the neighbours
    runs = timeit.repeat(fn, number=number, repeat=7, timer=time.process_time)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    for policy in ("forward", "refuse"):
        unknown: UnknownFields = "refuse" if policy == "refuse" else "forward"
        check = OpenAIRequestCheck(max_tokens=1_000_000, unknown_fields=unknown)
        for label, kind, body in (
            ("chat, 1 message", "chat", SMALL),
            ("chat, 11 messages + 4 tools", "chat", LARGE),
            ("embeddings, 16 inputs", "embeddings", EMBED),
        ):
            raw = orjson.dumps(body)
            cost = _us(lambda b=body, k=kind, c=check: c.check(k, b))
            before = _us(lambda b=body: _before(b))
            parse = _us(lambda r=raw: orjson.loads(r))
            print(
                f"{policy:8} {label:30} check {cost:6.2f} µs   (before {before:5.2f} µs; "
                f"orjson.loads {parse:6.2f} µs)"
            )


if __name__ == "__main__":
    main()
