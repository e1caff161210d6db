"""Completions as whole answers: assembled from chunks, scored by log-probabilities, rebuilt."""

from __future__ import annotations

import math

import orjson

from bastion.gateway.completions import ChatAssembly, confidence, replay, with_text


def _chunk(content: str | None, logprob: float | None = None, finish: str | None = None) -> dict:
    delta = {"content": content} if content is not None else {}
    lp = {"content": [{"token": content, "logprob": logprob}]} if logprob is not None else None
    return {
        "id": "c1",
        "created": 7,
        "choices": [{"index": 0, "delta": delta, "logprobs": lp, "finish_reason": finish}],
    }


def test_a_stream_assembles_into_the_completion_it_sent_with_its_confidence() -> None:
    answer = ChatAssembly()
    for chunk in (
        _chunk("Hel", math.log(0.5)),
        _chunk("lo", math.log(0.8)),
        _chunk(None, None, "stop"),
    ):
        answer.add(chunk)
    done = answer.completion("g", {"total_tokens": 3})
    assert done["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}
    assert (done["id"], done["model"], done["usage"]) == ("c1", "g", {"total_tokens": 3})
    assert confidence(done) == math.exp((math.log(0.5) + math.log(0.8)) / 2)


def test_no_logprobs_means_no_confidence() -> None:
    answer = ChatAssembly()
    answer.add(_chunk("x"))
    assert confidence(answer.completion("g", None)) is None
    assert confidence("a string") is None


async def test_a_text_becomes_a_completion_and_replays_as_a_stream() -> None:
    done = with_text({"id": "c9", "created": 3}, "sorry", "g")
    assert done["choices"][0]["message"]["content"] == "sorry" and done["model"] == "g"
    assert with_text(None, done, "h")["model"] == "h"
    events = [
        orjson.loads(e.removeprefix(b"data: ")) async for e in replay(done, include_usage=True)
    ]
    assert events[0]["choices"][0]["delta"]["content"] == "sorry"
    assert events[1]["choices"][0]["finish_reason"] == "stop"
    assert events[2]["usage"] == done["usage"]
