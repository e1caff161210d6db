"""A batch line is checked as OpenAI's request before it reaches the pipeline (the LLM target
no longer checks message roles itself: the edge does, on every path)."""

from __future__ import annotations

from typing import Any

from bastion.api.openai_batch import line_caller
from bastion.contracts.openai import OpenAIRequestCheck
from bastion.core import Principal
from bastion.pipeline import Call, Result
from bastion.settings.governance import GovernanceSettings

OWNER = Principal("k1", "owner", "acme", frozenset({"client"}))


async def test_a_line_with_a_bad_role_is_refused_before_the_pipeline() -> None:
    reached: list[Call] = []

    async def pipeline(call: Call) -> Result:
        reached.append(call)
        raise AssertionError("a refused line must not reach the pipeline")

    call_line = line_caller(
        pipeline, GovernanceSettings(), lambda name: True, OpenAIRequestCheck(max_tokens=4096)
    )
    bodies: list[dict[str, Any]] = [
        {"model": "chat", "messages": [{"role": "wizard", "content": "hi"}]},
        {"model": "chat", "messages": [{"content": "no role"}]},
        {"model": "chat", "messages": []},
        {"model": "chat", "messages": ["not an object"]},
    ]
    for i, body in enumerate(bodies):
        ok, response, cost = await call_line(OWNER, f"req-{i}", "/v1/chat/completions", body)
        assert (ok, response["status_code"], cost) == (False, 400, 0)
        assert response["body"]["error"]["param"].startswith("messages")
    assert reached == []
