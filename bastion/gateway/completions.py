"""Chat completions as whole answers: assembled from a stream's chunks, replayed as a stream,
rebuilt around another text, and scored by their token log-probabilities."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bastion.backends.sse import encode_event


@dataclass(slots=True)
class ChatAssembly:
    """Follows a chat stream's chunks and builds the ``chat.completion`` they add up to."""

    id: str = ""
    created: int = 0
    role: str = "assistant"
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    has_logprobs: bool = False

    def add(self, chunk: Mapping[str, Any]) -> None:
        self.id = self.id or str(chunk.get("id") or "")
        self.created = self.created or int(chunk.get("created") or 0)
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("role"), str):
                self.role = delta["role"]
            if isinstance(delta.get("content"), str):
                self.parts.append(delta["content"])
            elif isinstance(choice.get("text"), str):
                self.parts.append(choice["text"])
            tokens = (choice.get("logprobs") or {}).get("content")
            if isinstance(tokens, list):
                self.has_logprobs = True
                self.logprobs.extend(t for t in tokens if isinstance(t, dict))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def completion(self, model: str, usage: Mapping[str, Any] | None) -> dict[str, Any]:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": self.role, "content": "".join(self.parts)},
            "logprobs": {"content": self.logprobs} if self.has_logprobs else None,
            "finish_reason": self.finish_reason,
        }
        out: dict[str, Any] = {
            "id": self.id or "chatcmpl-stream",
            "object": "chat.completion",
            "created": self.created or int(time.time()),
            "model": model,
            "choices": [choice],
        }
        if usage is not None:
            out["usage"] = dict(usage)
        return out


def is_completion(output: Any) -> bool:
    return isinstance(output, dict) and isinstance(output.get("choices"), list)


def confidence(completion: Any) -> float | None:
    """The answer's confidence: exp of the mean token log-probability of its first choice
    (None when the upstream sent no log-probabilities)."""
    if not is_completion(completion) or not completion["choices"]:
        return None
    first = completion["choices"][0]
    tokens = ((first.get("logprobs") if isinstance(first, dict) else None) or {}).get("content")
    if not isinstance(tokens, list):
        return None
    values = [t.get("logprob") for t in tokens if isinstance(t, dict)]
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return None
    return math.exp(sum(finite) / len(finite))


def without_logprobs(completion: Any) -> Any:
    """The completion with its choices' ``logprobs`` emptied (asked for by Bastion only)."""
    if not is_completion(completion):
        return completion
    choices = [{**c, "logprobs": None} if isinstance(c, dict) else c for c in completion["choices"]]
    return {**completion, "choices": choices}


def with_text(base: Any, output: Any, model: str, kind: str = "chat") -> dict[str, Any]:
    """``output`` as an OpenAI completion: kept when it already is one, else its text (a string
    as it is, anything else as JSON) in a completion carrying ``base``'s id and ``model``."""
    if is_completion(output):
        return {**output, "model": model}
    text = output if isinstance(output, str) else orjson.dumps(output).decode()
    head = base if isinstance(base, dict) else {}
    choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": "stop"}
    if kind == "completions":
        choice["text"] = text
    else:
        choice["message"] = {"role": "assistant", "content": text}
    return {
        "id": str(head.get("id") or "chatcmpl-review"),
        "object": "text_completion" if kind == "completions" else "chat.completion",
        "created": int(head.get("created") or time.time()),
        "model": model,
        "choices": [choice],
        "usage": head.get("usage")
        or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


async def replay(completion: Mapping[str, Any], *, include_usage: bool) -> AsyncIterator[bytes]:
    """A whole chat completion sent as a stream: its text in one delta, then its finish (and
    the usage chunk when the client asked for usage). No terminator: the adapter adds it."""
    head = {
        "id": completion.get("id", "chatcmpl-review"),
        "object": "chat.completion.chunk",
        "created": completion.get("created", int(time.time())),
        "model": completion.get("model"),
    }
    first = (completion.get("choices") or [{}])[0]
    message = first.get("message") or {}
    delta = {"role": message.get("role", "assistant"), "content": message.get("content") or ""}
    yield encode_event({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    finish = first.get("finish_reason") or "stop"
    yield encode_event({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if include_usage and completion.get("usage"):
        yield encode_event({**head, "choices": [], "usage": completion["usage"]})
