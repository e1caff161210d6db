"""The fault upstream without HTTP: fault specs and bookkeeping, and the bodies it sends."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np
import orjson

# Which parameters each fault accepts (anything else is rejected, so typos fail loudly).
FAULT_PARAMS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "rate_limit": frozenset({"retry_after", "times"}),
        "error_once": frozenset({"status", "times"}),
        "error": frozenset({"status", "times"}),
        "unavailable": frozenset({"times", "retry_after"}),
        "reset": frozenset({"times"}),
        "hang": frozenset({"times"}),
        # a stream answered 200 with its headers, then nothing (plain calls: like hang)
        "silent": frozenset({"times"}),
        "delay_first_token": frozenset({"seconds", "times"}),
        "cut_stream": frozenset({"after", "times"}),
        "stall_stream": frozenset({"after", "times"}),
        "malformed_chunk": frozenset({"after", "times"}),
        "omit_done": frozenset({"times"}),
        "context_length": frozenset({"times"}),
        "content_policy": frozenset({"times"}),
        "flap": frozenset({"down_s", "up_s", "once"}),
        "slow": frozenset({"seconds", "times"}),
        # answers normally, with every token's log-probability ln(confidence) when asked
        "low_confidence": frozenset({"confidence", "times"}),
        # refuses (400) a chat whose last message is the assistant's: a prefill it won't take
        "refuse_prefill": frozenset({"times"}),
        # takes a trailing assistant message without continuing it: answers afresh
        "ignore_prefill": frozenset({"times"}),
        # answers with other words (a fresh answer that does not repeat what was sent)
        "different_answer": frozenset({"times"}),
    }
)
# Stream-only faults; ``cut_stream`` also cuts a non-streamed body half way.
STREAM_ONLY = frozenset({"stall_stream", "malformed_chunk", "omit_done"})


@dataclass(slots=True)
class Fault:
    """One active fault. ``times`` counts the requests it still applies to (None: forever)."""

    kind: str
    times: int | None = None
    status: int = 500
    retry_after: float | None = None
    seconds: float = 1.0
    after: int = 1
    down_s: float = 1.0
    up_s: float | None = None
    once: bool = False
    confidence: float = 0.99
    started_at: float = field(default_factory=time.monotonic)

    @classmethod
    def parse(cls, kind: str, params: Mapping[str, Any]) -> Fault:
        """Build a fault from its name and parameters; raise ValueError on anything unknown."""
        allowed = FAULT_PARAMS.get(kind)
        if allowed is None:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(FAULT_PARAMS))}")
        unknown = set(params) - allowed
        if unknown:
            raise ValueError(f"fault {kind!r} takes {sorted(allowed)}, not {sorted(unknown)}")
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in params.items():
            values[name] = _coerce(name, str(types[name]), value)
        if kind == "error_once":
            values.setdefault("times", 1)
        if kind == "unavailable":
            values["status"] = 503
        return cls(kind=kind, **values)

    def active(self, now: float) -> bool:
        """Whether the fault bites at ``now`` (only ``flap`` depends on time)."""
        if self.kind != "flap":
            return True
        elapsed = now - self.started_at
        if self.once:
            return elapsed < self.down_s
        up_s = self.down_s if self.up_s is None else self.up_s
        return elapsed % (self.down_s + up_s) < self.down_s


def _coerce(name: str, type_name: str, value: Any) -> Any:
    """Check and convert one parameter to its field's type (JSON gives ints for floats, etc.)."""
    if value is None and "None" in type_name:
        return None
    if "bool" in type_name:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes"}
        return bool(value)
    caster: Callable[[Any], Any] = float if "float" in type_name else int
    try:
        result = caster(value)
    except (TypeError, ValueError):
        raise ValueError(f"fault parameter {name!r} must be {type_name}") from None
    if not math.isfinite(result) or result < 0:
        raise ValueError(f"fault parameter {name!r} must be a finite number >= 0")
    return result


class FaultBook:
    """Faults by model name (``"*"`` applies to every model) and per-model request counts.

    Mutated from the server's loop; ``set``/``clear`` may be called from another thread (each
    is one dict operation, atomic under the GIL).
    """

    __slots__ = ("_faulted", "_faults", "_requests")

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._requests: dict[str, int] = {}
        self._faulted: dict[str, int] = {}

    def set(self, model: str, kind: str, **params: Any) -> Fault:
        fault = Fault.parse(kind, params)
        self._faults[model] = fault
        return fault

    def clear(self, model: str | None = None) -> None:
        if model is None:
            self._faults.clear()
        else:
            self._faults.pop(model, None)

    def reset_stats(self) -> None:
        self._requests.clear()
        self._faulted.clear()

    def take(self, model: str, *, stream: bool) -> Fault | None:
        """Count one request for ``model`` and return the fault that applies to it, if any."""
        self._requests[model] = self._requests.get(model, 0) + 1
        if not self._faults:
            return None
        key = model if model in self._faults else "*"
        fault = self._faults.get(key)
        if fault is None or not fault.active(time.monotonic()):
            return None
        if not stream and fault.kind in STREAM_ONLY:
            return None
        if fault.times is not None:
            if fault.times <= 0:
                self._faults.pop(key, None)
                return None
            fault.times -= 1
            if fault.times == 0:
                self._faults.pop(key, None)
        self._faulted[model] = self._faulted.get(model, 0) + 1
        return fault

    def faults(self) -> dict[str, dict[str, Any]]:
        return {model: {"fault": f.kind, "times": f.times} for model, f in self._faults.items()}

    def stats(self) -> dict[str, Any]:
        models = {
            name: {"requests": count, "faulted": self._faulted.get(name, 0)}
            for name, count in self._requests.items()
        }
        return {"models": models, "total": sum(self._requests.values()), "faults": self.faults()}


def openai_error(
    message: str, *, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An error body in OpenAI's shape."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_body(fault: Fault) -> tuple[int, dict[str, Any]]:
    """The status and OpenAI-shaped body a status-returning fault answers with."""
    if fault.kind == "rate_limit":
        body = openai_error("Rate limit reached (injected).", type_="requests", code="rate_limit")
        return 429, body
    if fault.kind == "context_length":
        message = (
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in more tokens (injected). Please reduce the length of the messages."
        )
        body = openai_error(
            message, type_="invalid_request_error", code="context_length_exceeded", param="messages"
        )
        return 400, body
    if fault.kind == "content_policy":
        message = "Your request was rejected as a result of our safety system (injected)."
        body = openai_error(message, type_="invalid_request_error", code="content_policy_violation")
        return 400, body
    status = 503 if fault.kind in {"unavailable", "flap"} else fault.status
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return status, openai_error(f"Injected {fault.kind} fault ({status}).", type_=kind)


def _sse(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _text(content: Any) -> str:
    """The text of a message's content: a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def word_count(texts: Sequence[str]) -> int:
    return sum(len(t.split()) for t in texts)


def pseudo_embedding(text: str, dimensions: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A deterministic unit vector derived from a hash of ``text``."""
    raw = np.frombuffer(hashlib.shake_256(text.encode()).digest(4 * dimensions), dtype="<u4")
    vector = raw.astype(np.float64) / 2**31 - 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return (vector / norm).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Reply:
    """One deterministic answer: the prefix, then the last user message, a word per token."""

    head: dict[str, Any]
    words: list[str]
    finish: str
    usage: dict[str, int]
    chat: bool
    logprob: float | None = None  # each token's, when the request asked for logprobs
    continued: bool = False  # continues a prefill: the first word, too, follows a space

    @classmethod
    def build(
        cls,
        body: dict[str, Any],
        model: str,
        id_: str,
        prefix: list[str],
        *,
        chat: bool,
        confidence: float = 0.99,
    ) -> Reply:
        """The answer to ``body``. A chat whose last message is the assistant's own start of
        this very answer (a prefill) is continued from there, as a model that takes a prefill
        does; any other trailing assistant message is ignored."""
        if chat:
            messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
            prompts = [_text(m.get("content")) for m in messages]
            users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
            question = users[-1] if users else ""
        else:
            prompt = body.get("prompt", "")
            prompts = [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]
            question = " ".join(prompts)
        words, finish = [*prefix, *question.split()], "stop"
        words, continued = _after_prefill(body, words) if chat else (words, False)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and 0 < limit < len(words):
            words, finish = words[:limit], "length"
        prompt_tokens = word_count(prompts)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        head = {"id": id_, "created": int(time.time()), "model": model}
        logprob = math.log(max(confidence, 1e-9)) if chat and body.get("logprobs") else None
        return cls(head, words, finish, usage, chat, logprob, continued)

    def _logprobs(self, words: Sequence[str]) -> dict[str, Any] | None:
        if self.logprob is None:
            return None
        return {
            "content": [
                {"token": w, "logprob": self.logprob, "bytes": None, "top_logprobs": []}
                for w in words
            ]
        }

    def payload(self) -> dict[str, Any]:
        text = " ".join(self.words)
        choice: dict[str, Any] = {
            "index": 0,
            "logprobs": self._logprobs(self.words),
            "finish_reason": self.finish,
        }
        if self.chat:
            choice["message"] = {"role": "assistant", "content": text, "refusal": None}
        else:
            choice["text"] = text
        kind = "chat.completion" if self.chat else "text_completion"
        return {**self.head, "object": kind, "choices": [choice], "usage": self.usage}

    def events(self, *, include_usage: bool) -> list[bytes]:
        """The SSE events of the streamed answer (without ``[DONE]``)."""
        extra: dict[str, Any] = {"usage": None} if include_usage else {}
        head = {**self.head, "object": "chat.completion.chunk" if self.chat else "text_completion"}

        def chunk(piece: str | None, reason: str | None, role: bool = False) -> bytes:
            said = [piece] if piece else []
            choice: dict[str, Any] = {
                "index": 0,
                "logprobs": self._logprobs(said) if said else None,
                "finish_reason": reason,
            }
            if self.chat:
                delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
                if piece is not None:
                    delta["content"] = piece
                choice["delta"] = delta
            else:
                choice["text"] = piece or ""
            return _sse({**head, "choices": [choice], **extra})

        pieces = [w if i == 0 and not self.continued else " " + w for i, w in enumerate(self.words)]
        events = [chunk(None, None, role=True)] if self.chat else []
        events += [chunk(piece, None) for piece in pieces]
        events.append(chunk(None, self.finish))
        if include_usage:
            events.append(_sse({**head, "choices": [], "usage": self.usage}))
        return events


def trailing_prefill(body: dict[str, Any]) -> str | None:
    """The text of a chat's last message when it is the assistant's (a prefill), else None."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    last = messages[-1]
    return _text(last.get("content")) if last.get("role") == "assistant" else None


def _after_prefill(body: dict[str, Any], words: list[str]) -> tuple[list[str], bool]:
    """The words still to say after a prefill that begins this answer at a word boundary."""
    prefill = trailing_prefill(body)
    full = " ".join(words)
    if not prefill or not full.startswith(prefill):
        return words, False
    if len(full) > len(prefill) and full[len(prefill)] != " ":
        return words, False
    return full[len(prefill) :].split(), True
