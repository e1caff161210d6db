"""Joining a continued stream into the one the client sees: one id, one role, no text twice.

A stream that broke after part of its answer went out is finished by another upstream (see
``bastion.gateway.route``). Each of its segments is rewritten by a ``Splice``: every chunk
carries the first segment's id, ``created`` and the public model name; a later segment sends
no second ``role`` delta; and a segment asked for the answer afresh (``restart``) must begin
with the text already delivered, which is dropped — anything else ends the stream with an
error rather than contradict what the client already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bastion.errors import UpstreamError


class ContinuationMismatch(UpstreamError):
    """A fresh answer that does not begin with the text already sent: it cannot finish it."""


@dataclass(slots=True)
class Splice:
    """How one segment's chunks join the stream: ``continued`` for every segment after the
    first; ``skip`` is the delivered text a restarted answer has yet to repeat."""

    id: str
    created: int
    model: str
    upstream: str = ""
    continued: bool = False
    skip: str = ""

    def apply(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        """The chunk to forward, or None when nothing in it is new to the client."""
        chunk["id"], chunk["created"], chunk["model"] = self.id, self.created, self.model
        if not self.continued:
            return chunk
        says = False
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                delta.pop("role", None)
                content = delta.get("content")
                if self.skip and isinstance(content, str):
                    delta["content"] = self._past_skip(content)
                    if not delta["content"]:
                        choice["logprobs"] = None
                says = says or bool(delta.get("content") or delta.get("tool_calls"))
            if choice.get("finish_reason"):
                if self.skip:
                    self._mismatch("ended before repeating it")
                says = True
        return chunk if says or chunk.get("usage") else None

    def _past_skip(self, content: str) -> str:
        n = min(len(content), len(self.skip))
        if content[:n] != self.skip[:n]:
            self._mismatch("does not begin with it")
        self.skip = self.skip[n:]
        return content[n:]

    def _mismatch(self, how: str) -> None:
        raise ContinuationMismatch(
            f"the stream broke after part of the answer was sent, and the fresh answer from "
            f"{self.upstream or 'the next upstream'} {how}; the text sent so far is all there "
            "is: send the request again for a whole answer",
            details={"upstream": self.upstream},
        )
