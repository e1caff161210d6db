"""Cut a document's text into chunks by its collection's policy: by size with overlap, or at
Markdown headings first (each chunk carries its heading path), long sections then by size."""

from __future__ import annotations

import re

from bastion.rag.base import Chunk, ChunkPolicy

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


def chunk_text(text: str, policy: ChunkPolicy) -> list[Chunk]:
    """The chunks of ``text``, in order (empty text gives none)."""
    if policy.strategy == "heading":
        pieces = [
            (heading, part)
            for heading, section in _sections(text)
            for part in _by_size(section, policy)
        ]
    else:
        pieces = [("", part) for part in _by_size(text, policy)]
    return [Chunk(i, part, heading) for i, (heading, part) in enumerate(pieces)]


def _sections(text: str) -> list[tuple[str, str]]:
    """``(heading path, body)`` per Markdown section; text before the first heading has ''."""
    out: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []
    start, heading = 0, ""
    for match in _HEADING.finditer(text):
        out.append((heading, text[start : match.start()]))
        level = len(match.group(1))
        path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, match.group(2))]
        heading = " > ".join(title for _, title in path)[:500]
        start = match.end()
    out.append((heading, text[start:]))
    return [(h, body.strip()) for h, body in out if body.strip()]


def _by_size(text: str, policy: ChunkPolicy) -> list[str]:
    """Windows of at most ``size`` characters, ending at the best break in their last third,
    the next one starting ``overlap`` characters before the previous end."""
    text = text.strip()
    size, overlap = policy.size, policy.overlap
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            end = _break_before(text, start + size * 2 // 3, end)
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return out


def _break_before(text: str, lowest: int, end: int) -> int:
    for mark in _BREAKS:
        at = text.rfind(mark, lowest, end)
        if at != -1:
            return at + len(mark)
    return end
