"""How a logged ``{"input", "output"}`` payload is scrubbed, knowing what is clean already.

The guard stage redacted a chat body's message contents (with every PII type) before the
call; OpenAI's bodies carry identifiers and enums that hold no personal data. The functions
here scrub the rest. A chat payload is first read without copying (``_needs_copy``): the
strings that are to be scrubbed are scrubbed once each, and when none of them changes (the
common case: an answer without PII) the payload is stored as it is, which dumps to the same
bytes as its scrubbed copy; only a payload with something to redact is rebuilt, with the
strings' scrubs reused, so no text is searched twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Scrub = Callable[[Any], Any]
_NONE = object()  # no key is skipped

# Keys whose string values in OpenAI's request and response bodies are identifiers or enums
# set by the protocol, the upstream or the operator (a model group's name), never free text.
_PROTOCOL_KEYS = frozenset(
    {"id", "object", "model", "role", "finish_reason", "type", "system_fingerprint"}
)


def scrub_unguarded(payload: Any, scrub: Scrub) -> Any:
    """A logged payload scrubbed, except the input's text slots, which the guard stage
    redacted already."""
    return {"input": _outside_texts(payload["input"], scrub), "output": scrub(payload["output"])}


def scrub_llm(payload: Any, scrub: Scrub) -> Any:
    """An OpenAI payload scrubbed whole (the guard did not redact its texts)."""
    texts: list[str] = []
    _protocol_texts(payload, texts)
    memo = _needs_copy(texts, scrub)
    return payload if memo is None else _protocol_aware(memo)(payload)


def scrub_llm_unguarded(payload: Any, scrub: Scrub) -> Any:
    """An OpenAI payload scrubbed, except the input's text slots the guard redacted."""
    texts: list[str] = []
    _outside_texts_of(payload["input"], texts)
    _protocol_texts(payload["output"], texts)
    memo = _needs_copy(texts, scrub)
    if memo is None:
        return payload
    walk = _protocol_aware(memo)
    return {"input": _outside_texts(payload["input"], walk), "output": walk(payload["output"])}


def _needs_copy(texts: list[str], scrub: Scrub) -> Scrub | None:
    """None when scrubbing changes none of ``texts`` (each scrubbed once here); otherwise a
    scrub that answers those texts from what was found and scrubs anything else."""
    found: dict[str, Any] = {}
    changed = False
    for text in texts:
        clean = found[text] = scrub(text)
        if not changed and clean != text:
            changed = True
    if not changed:
        return None

    def memo(value: Any) -> Any:
        if isinstance(value, str) and value in found:
            return found[value]
        return scrub(value)

    return memo


def _protocol_texts(value: Any, out: list[str], skip: object = _NONE) -> None:
    """The strings ``_protocol_aware`` scrubs in ``value`` (a dict: but its key ``skip``),
    in its order, without copying."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                if k not in _PROTOCOL_KEYS and k != skip:
                    out.append(v)
            elif isinstance(v, dict | list) and k != skip:
                _protocol_texts(v, out)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict | list):
                _protocol_texts(v, out)
    elif isinstance(value, str):
        out.append(value)


def _outside_texts_of(item: Any, out: list[str]) -> None:
    """The strings ``_outside_texts(item, _protocol_aware(scrub))`` scrubs, without copying."""
    if not (isinstance(item, dict) and isinstance(item.get("messages"), list)):
        return
    for message in item["messages"]:
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            _protocol_texts(message, out, "content")
        else:
            _protocol_texts(message, out)
    _protocol_texts(item, out, "messages")


def _protocol_aware(scrub: Scrub) -> Scrub:
    """``scrub`` for an OpenAI body: every string is scrubbed but those under
    ``_PROTOCOL_KEYS`` (searching ``"assistant"`` or ``"chatcmpl-…"`` for PII costs as much
    as searching a sentence)."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: v if k in _PROTOCOL_KEYS and isinstance(v, str) else walk(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return scrub(value) if isinstance(value, str) else value

    return walk


def _outside_texts(item: Any, fn: Scrub) -> Any:
    """``item`` with ``fn`` applied to every value outside the text slots the guard stage
    redacts (``bastion.guards.texts.map_texts``: a string item, every string of a dict or
    list item, and a chat body's ``messages[*].content``). Only a chat body has such values:
    its fields besides ``messages``, and each message's fields besides a string ``content``
    (a message whose content is a list of parts goes to ``fn`` whole)."""
    if not (isinstance(item, dict) and isinstance(item.get("messages"), list)):
        return item
    messages = [_outside_content(m, fn) for m in item["messages"]]
    rest = fn({k: v for k, v in item.items() if k != "messages"})  # a dict: keys seen
    return {k: messages if k == "messages" else rest[k] for k in item}


def _outside_content(message: Any, fn: Scrub) -> Any:
    if not (isinstance(message, dict) and isinstance(message.get("content"), str)):
        return fn(message)
    rest = fn({k: v for k, v in message.items() if k != "content"})
    return {k: message[k] if k == "content" else rest[k] for k in message}
