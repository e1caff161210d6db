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


def _one(splice: Splice, chunk: Any) -> Any:
    """The chunk ``apply`` forwards, or None when it forwards nothing."""
    out = splice.apply(chunk)
    assert len(out) <= 1
    return out[0] if out else None


def test_the_first_segment_is_renamed_and_otherwise_untouched() -> None:
    out = _one(Splice("chatcmpl-1", 100, "chat"), _chunk("Hi", role=True))
    assert out is not None and (out["id"], out["created"], out["model"]) == (
        "chatcmpl-1",
        100,
        "chat",
    )
    assert out["choices"][0]["delta"] == {"role": "assistant", "content": "Hi"}


def test_a_continuation_sends_no_second_role_and_drops_empty_chunks() -> None:
    splice = Splice("chatcmpl-1", 100, "chat", "b", continued=True)
    assert _one(splice, _chunk("", role=True)) is None
    out = _one(splice, _chunk(" world"))
    assert out is not None and out["choices"][0]["delta"] == {"content": " world"}
    assert out["id"] == "chatcmpl-1"
    assert _one(splice, _chunk(finish="stop")) is not None  # the finish always goes out


def test_a_restart_skips_the_delivered_text_across_chunk_boundaries() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, skip="Hello wor")
    said = [_one(splice, _chunk(piece)) for piece in ["Hel", "lo", " wo", "rld", " again"]]
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
    out = _one(splice, _chunk("Hi there"))
    assert out is not None and _content(out) == " there"
    assert _content(_one(splice, _chunk("!"))) == "!"


def _texts(splice: Splice, pieces: list[str | None]) -> list[list[str]]:
    out = []
    for piece in pieces:
        chunk = _chunk(finish="stop") if piece is None else _chunk(piece)
        out.append([_content(c) for c in splice.apply(chunk)])
    return out


def test_a_true_continuation_of_a_prefill_goes_out_at_once() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, echo="Hello world")
    assert _texts(splice, [" and", " more", None]) == [[" and"], [" more"], [""]]


def test_a_prefill_answered_afresh_is_held_then_skipped() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, echo="Hello world")
    said = _texts(splice, ["Hello", " wor", "ld, friend", "!", None])
    assert said == [[], [], [", friend"], ["!"], [""]]


def test_a_continuation_that_only_looks_like_an_echo_at_first_is_released_whole() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, echo="Hello world")
    assert _texts(splice, ["Hel", "p!"]) == [[], ["Hel", "p!"]]
    splice = Splice("c", 1, "chat", "b", continued=True, echo="Hello world")
    assert _texts(splice, [None]) == [[""]]  # nothing more to say: just the finish


def test_a_prefill_answer_that_ends_inside_the_delivered_text_is_refused() -> None:
    splice = Splice("c", 1, "chat", "b", continued=True, echo="Hello world")
    assert _texts(splice, ["Hello"]) == [[]]
    with pytest.raises(ContinuationMismatch):
        splice.apply(_chunk(finish="length"))
