"""Accounting at the edge: an LLM request's estimated cost before the call, headers after it."""

from __future__ import annotations

from typing import Any

from bastion.errors import InvalidRequest
from bastion.gateway.usage import estimate_prompt_tokens
from bastion.pipeline import Call
from bastion.pipeline.call import LlmKind, LlmRequest
from bastion.settings.governance import GovernanceSettings

COST_HEADER = "x-bastion-cost-usd"


def call_headers(call: Call) -> dict[str, str]:
    """Headers the stages left for the response: ``x-ratelimit-*`` and, once the call's
    cost is settled, ``x-bastion-cost-usd`` (a stream's cost is known only after it)."""
    headers = dict(call.response_headers)
    if call.cost_usd is not None:
        headers[COST_HEADER] = f"{call.cost_usd:.6f}"
    return headers


def _max_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None  # absent, or not an integer (the validate stage answers that one)


def _input_tokens(body: dict[str, Any]) -> int:
    """Embeddings: about four characters a token over the ``input`` strings."""
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return max(1, sum(len(t) for t in texts if isinstance(t, str)) // 4)


def llm_request(body: dict[str, Any], kind: LlmKind, settings: GovernanceSettings) -> LlmRequest:
    """What the admit stage reads before a call to an LLM group: its kind and estimates.

    ``max_tokens`` (or ``max_completion_tokens``) bounds the answer; without one the
    reservation assumes ``settings.default_max_tokens``. A ``max_tokens`` above
    ``settings.max_tokens`` is refused here, before anything is reserved.
    """
    requested = _max_tokens(body)
    if requested is not None and requested > settings.max_tokens:
        raise InvalidRequest(
            f"max_tokens: {requested} is more than this gateway accepts ({settings.max_tokens});"
            " ask for fewer tokens",
            details={"field": "max_tokens"},
        )
    if kind == "embeddings":
        prompt, completion = _input_tokens(body), 0
    else:
        prompt = estimate_prompt_tokens(body)
        completion = requested if requested and requested > 0 else settings.default_max_tokens
    model = body.get("model")
    return LlmRequest(kind, model if isinstance(model, str) else None, prompt, completion)
