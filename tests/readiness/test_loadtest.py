"""The load generator's bounds, its loopback rule, its verdict, and example requests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import jsonschema
import pytest

from bastion.readiness.examples import example_for
from bastion.readiness.loadtest import MAX_REQUESTS, Plan, Stats, is_loopback, verdict


def _plan(peak: float = 10, duration: float = 5, max_requests: int = 10_000) -> Plan:
    return Plan("http://127.0.0.1/x", b"{}", {}, peak, duration, max_requests, 8)


def test_the_plan_runs_at_twice_the_peak_within_its_bounds() -> None:
    assert _plan().target_rps == 20 and _plan().total == 100
    assert _plan(max_requests=30).total == 30
    assert _plan(peak=10_000, duration=300, max_requests=10**9).total == MAX_REQUESTS


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://10.0.0.5:8000", False),
        ("https://bastion.example.com", False),
    ],
)
def test_only_loopback_is_loaded_by_default(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def _stats(ok: int, failed: int, latency_ms: float, elapsed: float) -> Stats:
    stats = Stats(started=0.0, finished=elapsed, ok=ok, failures=Counter({"http 503": failed}))
    stats.latencies_ms = [latency_ms] * ok
    return stats


def test_the_verdict_needs_the_rate_the_latency_and_few_errors() -> None:
    plan = _plan()  # 20 rps for 5 s
    assert verdict(plan, _stats(100, 0, 20, 5), 500, 0.01).passed
    slow = verdict(plan, _stats(100, 0, 900, 5), 500, 0.01)
    assert not slow.passed and "p95" in slow.reasons[0]
    short = verdict(plan, _stats(50, 0, 20, 5), 500, 0.01)
    assert not short.passed and "target" in short.reasons[0]
    failing = verdict(plan, _stats(90, 10, 20, 5), 500, 0.01)
    assert not failing.passed and "http 503: 10" in failing.reasons[0]
    assert not verdict(plan, _stats(0, 100, 0, 5), 500, 1.0).passed  # no latency at all


SCHEMAS: list[dict[str, Any]] = [
    {"type": "array", "items": {"type": "number"}, "minItems": 30, "maxItems": 30},
    {"type": "string", "minLength": 1, "maxLength": 5},
    {
        "type": "object",
        "properties": {"age": {"type": "integer", "minimum": 18, "maximum": 99}},
        "required": ["age"],
    },
    {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}, "x": {"type": "boolean"}}},
    {"anyOf": [{"type": "null"}, {"type": "number", "exclusiveMinimum": 0}]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_examples_satisfy_their_schema(schema: dict[str, Any]) -> None:
    jsonschema.validate(example_for(schema), schema)
