"""Issue 20: the CPU the record path costs per call (metrics, log line, alert signals).

One pipeline holds the record stage (metrics, the ``request_completed`` line, untraced) and
the alert signals; another holds nothing; both answer at once with usage and cost set, as a
chat completion does. The figure is the difference in CPU time per call (the best of five
rounds of 50,000), and beside it the Python calls per call (cProfile's count): alternate
checkouts to compare them, ``PYTHONPATH=<checkout> python -m bench.record_path [level]``
(``warning``, as the hot-path benches run, leaves the log line out; ``info`` writes it to
/dev/null). Checkouts from before the record stage fed the alert signals itself run them as
their own stage, as the app did then.
"""

from __future__ import annotations

import asyncio
import cProfile
import inspect
import pstats
import sys
import time
from typing import Any

import orjson

from bastion.backends.base import Prediction
from bastion.observability import Metrics, RecordStage, RequestLog, Tracing
from bastion.observability.alerts import AlertManager, SignalStage
from bastion.observability.logging import configure_logging
from bastion.pipeline import Call, Result
from bastion.pipeline.build import build_pipeline
from bastion.settings import LoggingSettings
from bastion.settings.alerts import AlertSettings
from bastion.settings.observability import ObservabilitySettings


async def _answer(call: Call) -> Result:
    call.usage = {"prompt_tokens": 12, "completion_tokens": 7}
    call.cost_usd = 0.00003
    call.served_by = "bench"
    return Result(call.deployment, "m", 1, [Prediction({"label": "a"}, 0.9)])


def _pipelines() -> dict[str, Any]:
    alerts = AlertManager.from_settings(AlertSettings(), None)  # type: ignore[arg-type]
    signals = SignalStage(alerts)
    record = RecordStage(Metrics(), Tracing(), RequestLog(), lambda _: True)
    if "finished" in inspect.signature(record.around).parameters:
        stages = record.around([], [signals.done])
    else:
        stages = record.around([signals])
    return {"off": build_pipeline([], _answer), "on": build_pipeline(stages, _answer)}


async def _run(pipeline: Any, n: int) -> float:
    calls = []
    for i in range(n):
        call = Call(f"r{i}", "chat", "openai", [{}], False, time.perf_counter())
        call.version = 1
        calls.append(call)
    started = time.process_time()
    for call in calls:
        await pipeline(call)
    return (time.process_time() - started) / n * 1e6


async def _calls(pipeline: Any, n: int) -> float:
    profile = cProfile.Profile()
    profile.enable()
    await _run(pipeline, n)
    profile.disable()
    stats = pstats.Stats(profile)
    return sum(v[1] for v in stats.stats.values()) / n  # type: ignore[attr-defined]


async def _measure(rounds: int = 5, n: int = 50_000) -> dict[str, float]:
    pipelines = _pipelines()
    for _ in range(2):  # warm-up: label children, memos
        await _run(pipelines["on"], 2000)
        await _run(pipelines["off"], 2000)
    best = {"on": float("inf"), "off": float("inf")}
    for _ in range(rounds):
        for name in ("off", "on"):
            best[name] = min(best[name], await _run(pipelines[name], n))
    calls = await _calls(pipelines["on"], 10_000) - await _calls(pipelines["off"], 10_000)
    return {"record_cpu_us": round(best["on"] - best["off"], 2), "python_calls": round(calls, 1)}


def main(level: str = "warning") -> str:
    configure_logging(LoggingSettings(level=level), ObservabilitySettings(log_sink="/dev/null"))
    got = asyncio.run(_measure())
    return orjson.dumps({"level": level, **got}).decode()


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "warning"))
