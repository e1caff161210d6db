"""Joining a continued stream into the one the client sees: one id, one role, no text twice.

A stream that broke after part of its answer went out is finished by another upstream (see
``bastion.gateway.route``). Each of its segments is rewritten by a ``Splice``: every chunk
carries the first segment's id, ``created`` and the public model name; a later segment sends
no second ``role`` delta; and a segment asked for the answer afresh (``restart``) must begin
with the text already delivered, which is dropped — anything else ends the stream with an
error rather than contradict what the client already has. A segment asked to continue a
prefill (``echo``) is watched for an upstream that ignored the prefill and answered afresh:
while its text could still be the delivered text again it is held back; once it is, it is
skipped as a restart's would be; as soon as it differs, it is a true continuation and goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.errors import UpstreamError


class ContinuationMismatch(UpstreamError):
    """A fresh answer that does not begin with the text already sent: it cannot finish it."""


@dataclass(slots=True)
class Splice:
    """How one segment's chunks join the stream: ``continued`` for every segment after the
    first; ``skip`` is the delivered text a restarted answer has yet to repeat; ``echo`` the
    delivered text a prefill's continuation must not repeat."""

    id: str
    created: int
    model: str
    upstream: str = ""
    continued: bool = False
    skip: str = ""
    echo: str = ""
    _held: list[dict[str, Any]] = field(default_factory=list)
    _heard: str = ""

    def apply(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks to forward now (none when nothing in it is new to the client yet)."""
        chunk["id"], chunk["created"], chunk["model"] = self.id, self.created, self.model
        if not self.continued:
            return [chunk]
        if self.echo:
            return self._watch_echo(chunk)
        out = self._splice(chunk)
        return [] if out is None else [out]

    def _watch_echo(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        heard = self._heard + _first_content(chunk)
        if heard.startswith(self.echo):  # the delivered text again: skip it, as a restart's
            self.skip = self.echo
        elif self.echo.startswith(heard):  # may still be an echo
            if not _finishes(chunk):
                self._held.append(chunk)
                self._heard = heard
                return []
            if heard:  # a fresh answer cut short (its max_tokens was lowered) or a coincidence
                self._mismatch("is the start of it again, not its continuation")
        held, self._held, self._heard, self.echo = [*self._held, chunk], [], "", ""
        return [out for out in map(self._splice, held) if out is not None]

    def _splice(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
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


def _first_content(chunk: dict[str, Any]) -> str:
    for choice in chunk.get("choices") or []:
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            delta = choice.get("delta")
            content = delta.get("content") if isinstance(delta, dict) else None
            return content if isinstance(content, str) else ""
    return ""


def _finishes(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices") or []
    return any(isinstance(c, dict) and c.get("finish_reason") for c in choices)
