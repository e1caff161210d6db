"""Where the text is inside a Call's inputs: plain strings, dict values, chat message bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bastion.guards.injection.quoted import quoted_documents

#: Chat roles whose content comes from outside the operator: users and tool results.
SCREENED_ROLES = frozenset({"user", "tool", "function"})
#: Roles whose content is data the model fetched, never the user's own words: untrusted.
UNTRUSTED_ROLES = frozenset({"tool", "function"})


def is_chat_body(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("messages"), list)


def map_texts(item: Any, fn: Callable[[str], str]) -> Any:
    """A copy of ``item`` with ``fn`` applied to every text slot (inputs are never mutated).

    Text slots: a string item; every string inside a dict or list item; for a chat body,
    only ``messages[*].content`` (a string, or the ``text`` of ``{"type": "text"}`` parts).
    """
    if isinstance(item, str):
        return fn(item)
    if is_chat_body(item):
        return {**item, "messages": [_map_message(m, fn) for m in item["messages"]]}
    if isinstance(item, dict):
        return {k: map_texts(v, fn) for k, v in item.items()}
    if isinstance(item, list):
        return [map_texts(v, fn) for v in item]
    return item


def _map_message(message: Any, fn: Callable[[str], str]) -> Any:
    if not isinstance(message, dict):
        return message
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": fn(content)}
    if isinstance(content, list):
        parts = [
            {**p, "text": fn(p["text"])}
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            else p
            for p in content
        ]
        return {**message, "content": parts}
    return message


def all_texts(item: Any) -> list[str]:
    """Every text slot of ``item``, in the order :func:`map_texts` visits them."""
    return list(iter_texts(item))


def iter_texts(item: Any) -> Iterator[str]:
    """The text slots of ``item`` in :func:`map_texts`' order, without copying anything."""
    if isinstance(item, str):
        yield item
    elif is_chat_body(item):
        for message in item["messages"]:
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if isinstance(content, str):
                yield content
            elif isinstance(content, list):
                for p in content:
                    if isinstance(p, dict) and p.get("type") == "text":
                        text = p.get("text")
                        if isinstance(text, str):
                            yield text
    elif isinstance(item, dict):
        for value in item.values():
            yield from iter_texts(value)
    elif isinstance(item, list):
        for value in item:
            yield from iter_texts(value)


def screened_texts(item: Any) -> Iterator[str]:
    """The texts of ``item`` to screen for injection: one per user/tool message of a chat
    body, else one per item (a dict's strings joined by newlines)."""
    if is_chat_body(item):
        for message in item["messages"]:
            if isinstance(message, dict) and message.get("role") in SCREENED_ROLES:
                text = _message_text(message.get("content"))
                if text:
                    yield text
        return
    text = "\n".join(s for s in all_texts(item) if s.strip())
    if text:
        yield text


def screened_parts(item: Any) -> Iterator[tuple[str, bool]]:
    """``(text, untrusted)`` pairs to screen: every text of :func:`screened_texts`, marked
    untrusted when it is a tool or function result, plus each quoted document inside a
    user's text (pasted e-mails, files, web pages), again, marked untrusted."""
    if is_chat_body(item):
        for message in item["messages"]:
            if isinstance(message, dict) and message.get("role") in SCREENED_ROLES:
                text = _message_text(message.get("content"))
                if not text:
                    continue
                untrusted = message.get("role") in UNTRUSTED_ROLES
                yield text, untrusted
                if not untrusted:
                    yield from ((doc, True) for doc in quoted_documents(text))
        return
    for text in screened_texts(item):
        yield text, False
        yield from ((doc, True) for doc in quoted_documents(text))


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p["text"]
            for p in content
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        )
    return ""
