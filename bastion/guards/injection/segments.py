"""Cut a text into short overlapping windows, so that one planted sentence is scored alone.

An attack hidden in a pasted document, an e-mail or a tool result is one or two sentences
among many benign ones; scored as a whole the text looks benign. The screen scores every
window of ``width`` consecutive pieces (a piece ends at a line break, a sentence end, an
escaped ``\\n`` inside JSON, or a closing quote-and-bracket of JSON) and keeps the highest.
One pass of one regex without nested repeats: the cost is linear in the text's length.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"\n|\\n|(?<=[.!?;])\s|(?<=[。！？])|\"\s*[,}\]]")
#: At most this many windows per text (the rest of a very long text is scored as a whole).
MAX_WINDOWS = 64


def pieces(text: str) -> list[str]:
    """The non-blank pieces of ``text`` between breaks."""
    return [p.strip() for p in _BREAK.split(text) if p.strip()]


def window_groups(count: int, width: int = 2) -> list[range]:
    """The piece indices of each window over ``count`` pieces (none when the text is one
    window by itself: it is scored as a whole anyway)."""
    if count <= width:
        return []
    return [range(i, i + width) for i in range(min(count - width + 1, MAX_WINDOWS))]


def windows(text: str, width: int = 2) -> list[str]:
    """The text of each window of ``width`` consecutive pieces (the whole text, pieces
    joined, when it has no more than ``width``)."""
    parts = pieces(text)
    groups = window_groups(len(parts), width)
    if not groups:
        return [" ".join(parts)] if parts else []
    return [" ".join(parts[i] for i in group) for group in groups]
