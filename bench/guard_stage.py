"""Issue 20: the CPU one chat completion's guard stage costs, alone (no HTTP, no upstream).

The server's guard stage (``build_guards`` from default settings: PII redaction with the
shared detector, the injection screen's rules and shipped n-gram model) runs on chat bodies
whose user message is new every time ("hello there, message r2-17"), 64 tasks at once, with
a ``next`` that answers at once; the figure is this process's CPU time (every thread, so a
screen sent to a worker thread counts) per call, five rounds. Two checkouts compare by
alternating runs: ``PYTHONPATH=<checkout> python -m bench.guard_stage [calls]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bastion.guards.policies import GuardPolicies, build_guards
from bastion.pipeline.call import Call, LlmRequest, Result
from bastion.settings.guards import GuardsSettings


async def _answer(call: Call) -> Result:
    return Result(call.deployment, "bench", 1, [])


def _call(text: str) -> Call:
    body = {"model": "bench", "messages": [{"role": "user", "content": text}], "max_tokens": 16}
    return Call(
        "r", "bench", "openai.chat", [body], batched=False, started_at=0.0,
        llm=LlmRequest("chat", "bench", 3, 16),
    )  # fmt: skip


async def _round(guards: GuardPolicies, tag: str, calls: int) -> float:
    todo = iter([_call(f"hello there, message {tag}-{i}") for i in range(calls)])

    async def worker() -> None:
        for call in todo:
            await guards(call, _answer)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(64)))
    return (time.process_time() - started) / calls * 1e6


async def _measure(calls: int) -> dict[str, Any]:
    resources: Any = None  # the default screen runs no encoder: no shared resources needed
    guards = build_guards(GuardsSettings(), resources, Path(tempfile.mkdtemp()), llm_routes=True)
    await _round(guards, "warm", 500)
    return {"cpu_us_per_call": [round(await _round(guards, f"r{k}", calls)) for k in range(5)]}


def main(calls: int = 4000) -> str:
    import uvloop

    return orjson.dumps(uvloop.run(_measure(calls))).decode()


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000))
