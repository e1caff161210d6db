"""Token usage of a streamed answer: the upstream's own figures, or a marked estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.gateway.completions import ChatAssembly


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """About four characters a token, over every message's text; used only without usage."""
    chars = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        chars += len(prompt)
    return max(1, chars // 4)


@dataclass(slots=True)
class StreamTally:
    """Follows a stream: text deltas, the finish reason, and the usage chunk if one came."""

    prompt_estimate: int
    deltas: int = 0
    finished: bool = False
    usage_seen: bool = False
    usage: dict[str, Any] = field(default_factory=dict)
    estimated: bool = False
    answer: ChatAssembly = field(default_factory=ChatAssembly)

    def add(self, chunk: dict[str, Any]) -> None:
        self.answer.add(chunk)
        if chunk.get("usage"):
            self.usage_seen = True
            self.usage = dict(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content") or choice.get("text"):
                self.deltas += 1
            if choice.get("finish_reason"):
                self.finished = True

    def final_usage(self) -> dict[str, Any]:
        if self.usage_seen:
            return self.usage
        self.estimated = True
        return {
            "prompt_tokens": self.prompt_estimate,
            "completion_tokens": self.deltas,
            "total_tokens": self.prompt_estimate + self.deltas,
        }

    def usage_chunk(self, model: str) -> dict[str, Any]:
        return {
            "id": "usage",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [],
            "usage": self.final_usage(),
        }
