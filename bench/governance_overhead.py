"""Issue 4 benchmark: what auth + rate limits + budget + PII + injection + audit add to `predict`.

Three servers with the demo models, all pinned to CPU 0 and measured in turn with wrk on
CPU 1, in alternating rounds so that drift on a shared machine hits all alike:

- the foundation's stages (auth, route, validate, execute; audit, logs, metrics, alerts,
  monitoring and usage rows off): the figure the issue compares against;
- the governance set with counters in memory: a per-key and a per-deployment rate limit, a
  per-key daily budget priced per prediction, PII redaction and the injection screen on the
  served deployment, the fsync'd hash-chained audit log and usage rows;
- the same with the counters in Redis (127.0.0.1:6379, one Lua script per check);
- the in-memory set with the audit log's ``durability: process`` (commits not waiting for
  the disk flush), which shows what the fsync at c=1 costs of the total.

Two deployments: `breast-cancer` (numeric features, so the guards find no text to scan) and
`support-intent` (a customer message: PII redaction and the injection screen run on it; its
screen verdict is cached per distinct message, as wrk repeats one body, so the uncached cost
of one check is measured in-process beside it).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import yaml

from bench.harness import WrkResult, start_bastion, wrk

OFF = {
    "monitoring": {"enabled": False},
    "observability": {"request_log": False, "metrics_enabled": False},
    "alerts": {"enabled": False},
}
FOUNDATION = {**OFF, "audit": {"enabled": False}, "governance": {"record_usage": False}}
BIG = 10**9


def _governance(store: str, durability: str = "fsync") -> dict[str, Any]:
    screened = {"pii": "redact", "injection": "flag"}
    return {
        **OFF,
        "audit": {"durability": durability},
        "governance": {
            "store": store,
            "key_prefix": f"bastion-bench-{time.time_ns()}:",
            "rate_limits": {
                "rules": [
                    {"scope": "key", "limit": BIG, "period_s": 60},
                    {"scope": "deployment", "limit": BIG, "period_s": 60},
                ]
            },
            "budgets": {
                "rules": [
                    {"scope": "key", "window": "day", "limit_usd": 1e9, "limit_requests": BIG}
                ]
            },
            "prices": {"default": {"per_prediction": 0.0001}},
        },
        "guards": {
            "policies": [
                {"deployment": "breast-cancer", **screened},
                {"deployment": "support-intent", **screened},
            ]
        },
    }


SETUPS = {
    "foundation stages": FOUNDATION,
    "+ governance set, counters in memory": _governance("memory"),
    "+ governance set, counters in Redis": _governance("redis"),
    "+ governance set, memory, audit durability=process": _governance("memory", "process"),
}
MESSAGE = "Hi, I was charged twice for my subscription, my email is ann.lee@example.com"


def _config(data: dict[str, Any]) -> Path:
    path = Path(tempfile.mkdtemp()) / "bastion.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _bodies() -> dict[str, str]:
    from bastion.demo.tabular import sample_inputs

    return {
        "breast-cancer": orjson.dumps({"input": sample_inputs(1)[0]}).decode(),
        "support-intent": orjson.dumps({"input": MESSAGE}).decode(),
    }


def uncached_check(n: int = 300) -> tuple[float, float, float, float]:
    """p50/p99 ms of PII detection and of one injection screen on distinct messages."""
    from bastion.backends.resources import Resources
    from bastion.guards.injection import InjectionScreen
    from bastion.guards.pii import PiiDetector
    from bastion.guards.policies import load_screen_parts
    from bastion.settings.guards import GuardsSettings

    encoder, model = load_screen_parts(GuardsSettings(), Resources(), Path(tempfile.mkdtemp()))
    screen = InjectionScreen(encoder, 0.5, model=model)
    detector = PiiDetector()
    texts = [f"{MESSAGE} (order {i}, ticket {i * 7919})" for i in range(n)]
    for text in texts[:20]:
        screen.screen(text + " warm")
    pii, inj = [], []
    for text in texts:
        t0 = time.perf_counter()
        detector.redact(text)
        t1 = time.perf_counter()
        screen.screen(text)
        t2 = time.perf_counter()
        pii.append((t1 - t0) * 1000)
        inj.append((t2 - t1) * 1000)
    pii.sort()
    inj.sort()
    p99 = int(n * 0.99)
    return statistics.median(pii), pii[p99], statistics.median(inj), inj[p99]


def main(seconds: int = 4, rounds: int = 4) -> str:
    bodies = _bodies()
    servers = {
        name: start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(_config(cfg))})
        for name, cfg in SETUPS.items()
    }
    results: dict[tuple[str, str, int], list[WrkResult]] = {}
    try:
        for server in servers.values():
            for dep, body in bodies.items():
                wrk(f"{server.url}/v1/deployments/{dep}/predict", body, server.key, 4, 2)
        for _ in range(rounds):
            for dep, body in bodies.items():
                for c in (1, 64) if dep == "breast-cancer" else (1,):
                    for name, server in servers.items():
                        url = f"{server.url}/v1/deployments/{dep}/predict"
                        run = wrk(url, body, server.key, c, seconds)
                        results.setdefault((name, dep, c), []).append(run)
    finally:
        for server in servers.values():
            server.stop()
    checks = uncached_check()
    return _report(results, checks, seconds, rounds)


def _med(runs: list[WrkResult], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def _report(
    results: dict[tuple[str, str, int], list[WrkResult]],
    checks: tuple[float, float, float, float],
    seconds: int,
    rounds: int,
) -> str:
    lines = [
        "### Governance overhead on `predict` — issue 4",
        "",
        "| deployment | server | concurrency | req/s | p50 ms | p99 ms | added p50 vs "
        "foundation | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for (name, dep, c), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        base = results[("foundation stages", dep, c)]
        added = _med(runs, "p50_ms") - _med(base, "p50_ms")
        shown = "—" if name == "foundation stages" else f"{added:+.3f} ms"
        lines.append(
            f"| {dep} | {name} | {c} | {_med(runs, 'rps'):,.0f} | {_med(runs, 'p50_ms'):.3f} "
            f"| {_med(runs, 'p99_ms'):.3f} | {shown} | {sum(r.errors for r in runs)} |"
        )
        if c == 1 and name != "foundation stages":
            verdict = "meets" if added <= 0.5 else "MISSES"
            verdicts.append(f"- {dep}, {name}: **{added:+.3f} ms** at p50 ({verdict} ≤ 0.5 ms).")
    pii50, pii99, inj50, inj99 = checks
    lines += [
        "",
        *verdicts,
        "",
        f"Medians of {rounds} alternating rounds of {seconds} s per server, deployment and "
        "concurrency; servers pinned to CPU 0, wrk to CPU 1. The rate-limit rules and budget "
        "are set high so that every request is admitted: the figure is the cost of checking, "
        "not of refusing.",
        "",
        f"One uncached check on a distinct {len(MESSAGE) + 25}-character customer message, "
        f"in-process: PII detection p50 {pii50:.3f} ms / p99 {pii99:.3f} ms; injection screen "
        f"(rules + int8 MiniLM classifier) p50 {inj50:.2f} ms / p99 {inj99:.2f} ms "
        f"({'meets' if inj99 < 10 else 'MISSES'} the p99 < 10 ms target).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
