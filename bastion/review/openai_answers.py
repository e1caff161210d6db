"""Reviewed answers on the OpenAI routes: always a completion (streamed when asked), with the
confidence the policy needs asked of the upstream.

A review policy on an LLM group sees whole answers: a streamed call is drained first (nothing
reaches the client before the decision), then the decided answer — the model's, a stronger
model's, a correction or the static fallback — is replayed as a stream. Log-probabilities
Bastion asked for only to score the answer are removed before it leaves.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bastion.backends.base import Prediction
from bastion.gateway.completions import replay, with_text, without_logprobs

if TYPE_CHECKING:
    from bastion.pipeline import Call, Result
    from bastion.review.policy import ReviewPolicy


def ask_logprobs(call: Call, policy: ReviewPolicy) -> bool:
    """Ask the upstream for token log-probabilities when the policy judges by confidence and
    the client did not ask for them itself; True when Bastion added the request."""
    if call.llm is None or call.llm.kind != "chat" or policy.settings.confidence_below is None:
        return False
    body = call.inputs[0]
    if not isinstance(body, dict) or body.get("logprobs"):
        return False
    call.inputs[0] = {**body, "logprobs": True}
    return True


async def drained(call: Call, result: Result) -> Result:
    """The stream read to its end (a ``BastionError`` breaking it is raised: nothing has been
    sent yet), as a Result holding the answer it assembled."""
    stream = result.stream
    assert stream is not None
    try:
        async for _ in stream:
            pass
    finally:  # cancelled meanwhile: the stream's slot and connection are freed now, not at GC
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
    answer = call.delivered
    predictions = [answer] if answer is not None else []
    return dataclasses.replace(result, predictions=predictions, stream=None)


def as_openai(call: Call, result: Result, *, strip: bool) -> Result:
    """Every prediction as a completion naming the model that answered; streamed again when
    the client asked for a stream."""
    assert call.llm is not None
    originals = call.review_original or result.predictions
    shaped = []
    for i, p in enumerate(result.predictions):
        base = originals[i].output if i < len(originals) else None
        output = with_text(base, p.output, result.model, call.llm.kind)
        shaped.append(Prediction(without_logprobs(output) if strip else output, p.confidence))
    done = dataclasses.replace(result, predictions=shaped)
    if not call.stream or not shaped:
        return done
    body = call.inputs[0] if isinstance(call.inputs[0], dict) else {}
    options = body.get("stream_options") or {}
    usage = bool(isinstance(options, dict) and options.get("include_usage"))
    return dataclasses.replace(done, stream=replay(shaped[0].output, include_usage=usage))
