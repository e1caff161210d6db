"""Splicing a continued stream: one id, one role, and a restart's repeated prefix dropped or
refused."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.gateway.splice import ContinuationMismatch, Splice


def _chunk(content: str | None = None, *, role: bool = False, finish: str | None = None) -> Any:
    delta: dict[str, Any] = {"role": "assistant"} if role else {}
    if content is not None:
        delta["content"] = content
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": {"content": []}}
    return {"id": "other", "created": 7, "model": "m-x", "choices": [choice]}


def _content(chunk: Any) -> str:
    return str(chunk["choices"][0]["delta"].get("content", ""))


def test_the_first_segment_is_renamed_and_otherwise_untouched() -> None:
    out = Splice("chatcmpl-1", 100, "chat").apply(_chunk("Hi", role=True))
    assert out is not None and (out["id"], out["created"], out["model"]) == (
        "chatcmpl-1",
        100,
        "chat",
    )
    assert out["choices"][0]["delta"] == {"role": "assistant", "content": "Hi"}


def test_a_continuation_sends_no_second_role_and_drops_empty_chunks() -> None:
    splice = Splice("chatcmpl-1", 100, "chat", "b", continued=True)
    assert splice.apply(_chunk("", role=True)) is None
    out = splice.apply(_chunk(" world"))
    assert out is not None and out["choices"][0]["delta"] == {"content": " world"}
    assert out["id"] == "chatcmpl-1"
    assert splice.apply(_chunk(finish="stop")) is not None  # the finish always goes out


def test_a_restart_skips_the_delivered_text_across_chunk_boundaries() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, skip="Hello wor")
    said = [splice.apply(_chunk(piece)) for piece in ["Hel", "lo", " wo", "rld", " again"]]
    assert [_content(c) for c in said if c is not None] == ["ld", " again"]
    assert said[0] is None and said[2] is None  # wholly repeated: nothing new to send
    assert splice.skip == ""


@pytest.mark.parametrize(
    "pieces", [["Hello", " there"], ["Help"], ["Hello", " w"], ["Hello wor", "X"]]
)
def test_a_restart_that_does_not_repeat_the_delivered_text_is_refused(pieces: list[str]) -> None:
    splice = Splice("c", 1, "chat", "b-up", continued=True, skip="Hello world")
    with pytest.raises(ContinuationMismatch, match="b-up"):
        for piece in pieces:
            splice.apply(_chunk(piece))
        splice.apply(_chunk(finish="stop"))  # shorter than what was delivered


def test_a_restart_past_the_delivered_text_forwards_everything() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, skip="Hi")
    out = splice.apply(_chunk("Hi there"))
    assert out is not None and _content(out) == " there"
    assert _content(splice.apply(_chunk("!"))) == "!"
