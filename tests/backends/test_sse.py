"""The SSE parser: the same events whatever the chunk boundaries and line endings."""

from __future__ import annotations

import random

import pytest

from bastion.backends.sse import SSEEvent, SSEParser

STREAM = (
    ": keep-alive comment\n"
    'data: {"a": 1}\n\n'
    "event: update\nid: 7\nretry: 1500\ndata: first line\ndata:second line\n\n"
    "data: \u00e9t\u00e9 \u2603 \U0001f600\n\n"
    "id\n"
    "data\n\n"
    "data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent('{"a": 1}'),
    SSEEvent("first line\nsecond line", "update", "7", 1500),
    SSEEvent("\u00e9t\u00e9 \u2603 \U0001f600", "message", "7", 1500),
    SSEEvent("", "message", "", 1500),
    SSEEvent("[DONE]", "message", "", 1500),
]


def parse_in_pieces(raw: bytes, cuts: list[int]) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    previous = 0
    for cut in [*sorted(cuts), len(raw)]:
        events += parser.feed(raw[previous:cut])
        previous = cut
    return events + parser.flush()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_whole_stream_with_each_line_ending(newline: str) -> None:
    raw = STREAM.replace("\n", newline).encode()
    assert parse_in_pieces(raw, []) == EXPECTED


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_random_chunk_boundaries_give_the_same_events(newline: str) -> None:
    raw = ("\ufeff" + STREAM.replace("\n", newline)).encode()
    rng = random.Random(1234)
    for _ in range(300):
        cuts = rng.sample(range(1, len(raw)), k=rng.randint(1, 40))
        assert parse_in_pieces(raw, cuts) == EXPECTED, cuts


def test_every_single_byte_boundary() -> None:
    raw = STREAM.replace("\n", "\r\n").encode()
    assert parse_in_pieces(raw, list(range(1, len(raw)))) == EXPECTED


def test_cr_then_lf_in_the_next_chunk_is_one_line_ending() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r") == []
    assert parser.feed(b"\n\r") == [SSEEvent("x")]
    assert parser.feed(b"\ndata: y\r\n\r\n") == [SSEEvent("y")]


def test_byte_order_mark_only_stripped_at_the_start() -> None:
    parser = SSEParser()
    assert parser.feed(b"\xef") == []
    assert parser.feed(b"\xbb\xbfdata: a\n\n") == [SSEEvent("a")]
    assert parser.feed(b"data: \xef\xbb\xbfb\n\n") == [SSEEvent("\ufeffb")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    parser = SSEParser()
    assert parser.feed(b":x\n: y\nfoo: bar\n\n:only comment\n\n") == []


def test_event_without_data_is_not_dispatched_and_event_name_resets() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: ping\n\ndata: d\n\n") == [SSEEvent("d")]


def test_invalid_retry_and_nul_id_are_ignored() -> None:
    parser = SSEParser()
    assert parser.feed(b"retry: 1x\nid: a\x00b\ndata: d\n\n") == [SSEEvent("d")]


def test_flush_dispatches_complete_lines_but_drops_a_partial_one() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: complete\n") == []
    assert parser.pending
    assert parser.flush() == [SSEEvent("complete")]
    parser = SSEParser()
    assert parser.feed(b'data: {"cut": ') == []
    assert parser.flush() == []
    assert not parser.pending


def test_multibyte_utf8_split_inside_a_character() -> None:
    raw = "data: \u2603\n\n".encode()
    parser = SSEParser()
    assert parser.feed(raw[:7]) == []
    assert parser.feed(raw[7:]) == [SSEEvent("\u2603")]


def test_only_newline_characters_end_lines() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\x0bb\x0cc\x1cd\n\n") == [SSEEvent("a\x0bb\x0cc\x1cd")]
