"""Documents to text: plain text, Markdown, HTML (headings kept as Markdown headings) and PDF
(pypdf, page by page). CPU-bound: callers run ``parse`` in a worker thread."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Literal

from bastion.errors import InvalidRequest, UnsupportedMediaType

MediaType = Literal["text", "markdown", "html", "pdf"]
_SUFFIXES: dict[str, MediaType] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
SUPPORTED = tuple(sorted(_SUFFIXES))


def media_type_of(filename: str, declared: str | None = None) -> MediaType:
    """The kind of a document, from ``declared`` or else its file name's suffix."""
    if declared:
        if declared not in ("text", "markdown", "html", "pdf"):
            raise InvalidRequest(
                f"media_type {declared!r} is not one of text, markdown, html, pdf",
                details={"field": "media_type"},
            )
        return declared  # type: ignore[return-value]
    suffix = PurePosixPath(filename.lower()).suffix
    found = _SUFFIXES.get(suffix)
    if found is None:
        raise UnsupportedMediaType(
            f"{filename!r}: cannot index {suffix or 'files without a suffix'}; index one of "
            f"{', '.join(SUPPORTED)} or name the kind with media_type"
        )
    return found


def parse(data: bytes, media_type: MediaType, name: str = "document") -> str:
    """The document's text (Markdown keeps its headings; HTML's become Markdown ones)."""
    if media_type == "pdf":
        return _pdf_text(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"{name} is not UTF-8 text (byte {exc.start}); convert it to UTF-8 and index it again"
        ) from exc
    return html_text(text) if media_type == "html" else text.replace("\r\n", "\n")


def _pdf_text(data: bytes, name: str) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - the rag extra installs it
        raise InvalidRequest("PDF indexing needs pypdf: pip install 'bastion[rag]'") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(f"{name} is not a readable PDF: {exc}") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


_SKIP = frozenset({"script", "style", "noscript", "template", "head"})
_BLOCK = frozenset(
    {"p", "div", "br", "li", "tr", "section", "article", "pre", "blockquote", "table", "ul"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"[ \t\r\f\v]+", " ", data))


def html_text(html: str) -> str:
    """Visible text of an HTML page; ``<h2>`` becomes a ``## `` line, scripts are dropped."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
