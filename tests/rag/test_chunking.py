"""Parsing and chunking by a collection's policy."""

from __future__ import annotations

import itertools

import pytest

from bastion.errors import InvalidRequest, UnsupportedMediaType
from bastion.rag.base import ChunkPolicy
from bastion.rag.chunking import chunk_text
from bastion.rag.parsing import media_type_of, parse


def test_size_chunks_overlap_and_cover_the_text() -> None:
    text = " ".join(f"word{i}." for i in range(400))
    chunks = chunk_text(text, ChunkPolicy(size=200, overlap=40))
    assert all(len(c.text) <= 200 for c in chunks) and len(chunks) > 10
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for before, after in itertools.pairwise(chunks):
        assert before.text[-20:].split()[-1] in after.text  # neighbours share their edge
    assert chunks[-1].text.endswith("word399.")


def test_heading_chunks_carry_their_heading_path() -> None:
    md = "Intro line.\n\n# Guide\n\nTop.\n\n## Install\n\nRun it.\n\n## Use\n\nCall it.\n"
    chunks = chunk_text(md, ChunkPolicy(strategy="heading", size=200, overlap=20))
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Intro line."),
        ("Guide", "Top."),
        ("Guide > Install", "Run it."),
        ("Guide > Use", "Call it."),
    ]


def test_html_keeps_headings_and_drops_scripts() -> None:
    html = b"<html><head><style>p{}</style></head><body><h2>Title</h2><p>Text &amp; more</p>"
    html += b"<script>alert(1)</script></body></html>"
    assert parse(html, "html") == "## Title\n\nText & more"


def test_kinds_and_refusals() -> None:
    assert media_type_of("a/b.MD") == "markdown" and media_type_of("x", "pdf") == "pdf"
    with pytest.raises(UnsupportedMediaType, match=r"cannot index \.docx"):
        media_type_of("report.docx")
    with pytest.raises(InvalidRequest, match="not UTF-8"):
        parse(b"\xff\xfe\xfa", "text")
    with pytest.raises(InvalidRequest, match="not a readable PDF"):
        parse(b"%PDF-1.4 broken", "pdf")
    with pytest.raises(InvalidRequest, match="overlap below half"):
        ChunkPolicy.parse({"size": 100, "overlap": 60})
