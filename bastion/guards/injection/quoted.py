"""Quoted documents inside a user's message: content the user pasted, not wrote.

A user who pastes a web page, an e-mail or a file asks the assistant to work *on* it; any
instruction inside it is untrusted (an indirect injection), so the stage screens each quoted
document again on its own, under the stricter policy for untrusted content. Found: fenced
code blocks, triple-quoted blocks, ``<document>``-like tags, forwarded or original-message
blocks, e-mail headers to the end, and runs of ``>`` quoted lines. Each kind is found in
linear time: no nested repeats, lazy bodies stop at the first closing delimiter, and an
unclosed tag is not searched for again.
"""

from __future__ import annotations

import re

_BLOCKS = re.compile(
    r"```[^\n`]*\n(?P<fence>.*?)```|\"\"\"(?P<triple>.*?)\"\"\"", re.DOTALL | re.IGNORECASE
)
_OPEN_TAG = re.compile(
    r"<(document|doc|email|article|context|page|file|source|attachment)\b[^<>]{0,200}>",
    re.IGNORECASE,
)
_FORWARDED = re.compile(
    r"(?im)^[ \t]*(?:-{3,}[ \t]*(?:original message|forwarded message)[ \t]*-{3,}"
    r"|from:[ \t]+\S[^\n]{0,200}\n(?:[^\n]{0,300}\n){0,4}?[ \t]*subject:)"
)
_QUOTE_LINES = re.compile(r"(?m)(?:^[ \t]*>[^\n]*(?:\n|$)){2,}")
#: Shorter quoted spans are phrases, not documents.
MIN_CHARS = 40


def quoted_documents(text: str) -> list[str]:
    """The quoted documents of ``text`` (possibly overlapping), in order of appearance."""
    found: list[str] = []
    for m in _BLOCKS.finditer(text):
        body = m.group("fence") or m.group("triple") or ""
        if len(body.strip()) >= MIN_CHARS:
            found.append(body.strip())
    found.extend(_tagged(text))
    header = _FORWARDED.search(text)
    if header and len(text) - header.start() >= MIN_CHARS:
        found.append(text[header.start() :].strip())
    for m in _QUOTE_LINES.finditer(text):
        body = "\n".join(line.lstrip(" \t>") for line in m.group(0).splitlines())
        if len(body.strip()) >= MIN_CHARS:
            found.append(body.strip())
    return found


def _tagged(text: str) -> list[str]:
    """Bodies of ``<document>…</document>``-like tags. A tag that is never closed is not
    looked for again, so that many unclosed openings cost one scan each, not one per pair."""
    unclosed: set[str] = set()
    bodies: list[str] = []
    position = 0
    while m := _OPEN_TAG.search(text, position):
        tag = m.group(1).casefold()
        position = m.end()
        if tag in unclosed:
            continue
        close = re.compile(f"</{tag}>", re.IGNORECASE).search(text, m.end())
        if close is None:
            unclosed.add(tag)
            continue
        body = text[m.end() : close.start()].strip()
        if len(body) >= MIN_CHARS:
            bodies.append(body)
        position = close.end()
    return bodies
