"""Issue 14 benchmark: what the action layer costs a predict call, and how fast it delivers.

1. The outbox write on the decision's commit, in-process: the audit log's SQLite chain writer
   appending one record, with and without one action intent in the same transaction; and the
   act stage's own work per call (condition, intent) in a pipeline that answers at once.
2. Added p50 on `predict` through real servers (tabular demo, c=1, wrk): no actions, versus
   one action per decision (condition true) with the dispatcher off (the write alone), and on
   (delivering to a local receiver in another process).
3. Dispatcher throughput: one dispatcher (one process) delivering 10,000 queued actions to a
   local HTTP receiver running in a separate process; also per CPU-second of its process.
4. NATS in → out for the tabular demo: a burst of requests on a JetStream subject (requests/s
   until the last result), and one request at a time (p50/p99 from publish to result).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.harness import WrkResult, free_port, pinned, start_bastion, wrk


def receiver(port: int) -> None:
    """A minimal idempotent receiver (run in its own process by the benchmark)."""
    from aiohttp import web

    seen: set[str] = set()

    async def take(request: web.Request) -> web.Response:
        await request.read()
        seen.add(request.headers.get("Idempotency-Key", ""))
        return web.Response(text="{}", content_type="application/json")

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"accepted": len(seen)})

    app = web.Application()
    app.router.add_get("/count", count)
    app.router.add_post("/{tail:.*}", take)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _start_receiver(cpu: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        pinned([sys.executable, "-m", "bench.actions", "receiver", str(port)], cpu)
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/count", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("receiver did not start")


def _intent(i: int) -> Any:
    from bastion.store.actions_tables import OutboxIntent

    return OutboxIntent(
        id=f"act_{i:020d}",
        tenant="default",
        deployment="breast-cancer",
        action="notify",
        decision_id=f"req-{i}:0",
        request_id=f"req-{i}",
        status="pending",
        context={
            "input": {"mean radius": 14.2, "mean texture": 20.1},
            "output": {"label": "benign"},
        },
        at=datetime.now(UTC),
    )


def commit_in_process(n: int = 1500) -> dict[str, float]:
    """Median µs of one chain append (one record per batch), without and with an intent."""
    from bastion.observability.audit.record import AuditEntry
    from bastion.observability.audit.sqlite_writer import SqliteChainWriter
    from bastion.store import migrate

    results: dict[str, float] = {}
    for durability in ("fsync", "process"):
        path = Path(tempfile.mkdtemp()) / "bastion.db"
        asyncio.run(migrate.upgrade(f"sqlite:///{path}"))
        writer = SqliteChainWriter(str(path), fsync=durability == "fsync")

        async def run(writer: SqliteChainWriter) -> tuple[float, float]:
            plain, carried = [], []
            for i in range(n):
                entry = AuditEntry(kind="interaction", action="predict", at=datetime.now(UTC))
                for with_intent, times in ((False, plain), (True, carried)):
                    outbox = (_intent(2 * i + with_intent),) if with_intent else ()
                    e = AuditEntry(**{**_fields(entry), "outbox": outbox})
                    t0 = time.perf_counter()
                    await writer.append([e])
                    times.append(time.perf_counter() - t0)
            await writer.aclose()
            return statistics.median(plain) * 1e6, statistics.median(carried) * 1e6

        base, carried = asyncio.run(run(writer))
        results[f"append, durability={durability}"] = base
        results[f"append + 1 intent, durability={durability}"] = carried
    results["act stage per call"] = _act_stage_cost()
    return results


def _fields(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__dataclass_fields__}


def _act_stage_cost(n: int = 20_000) -> float:
    """Median µs the act stage adds to a call whose one action's condition holds."""
    from bastion.actions.compiled import Catalog
    from bastion.actions.stage import ActStage
    from bastion.backends.base import Prediction
    from bastion.pipeline import Call, Result
    from bastion.pipeline.build import build_pipeline
    from bastion.settings.actions import ActionsSettings

    cfg = ActionsSettings.model_validate(_actions_config("http://127.0.0.1:9"))
    stage = ActStage(Catalog(cfg), None)

    async def answer(call: Call) -> Result:
        return Result(call.deployment, "m", 1, [Prediction({"label": "benign"}, 0.97)])

    async def run(pipeline: Any) -> float:
        times = []
        for i in range(n):
            call = Call(f"r{i}", "breast-cancer", "predict", [{"x": 1}], False, 0.0)
            t0 = time.perf_counter()
            await pipeline(call)
            times.append(time.perf_counter() - t0)
        return statistics.median(times[n // 10 :]) * 1e6

    bare = asyncio.run(run(build_pipeline([], answer)))
    acted = asyncio.run(run(build_pipeline([stage], answer)))
    return acted - bare


def _actions_config(url: str, dispatcher: bool = True) -> dict[str, Any]:
    return {
        "destinations": {"sink": {"kind": "http", "url": url, "max_concurrency": 256}},
        "deployments": {
            "breast-cancer": [
                {
                    "name": "notify",
                    "when": "confidence >= 0",
                    "steps": [
                        {
                            "name": "post",
                            "destination": "sink",
                            "path": "/events",
                            "body": {"label": "{{ output.label }}", "id": "{{ decision_id }}"},
                        }
                    ],
                }
            ]
        },
        "dispatcher": {"enabled": dispatcher, "batch": 500},
    }


def predict_added(seconds: int = 4, rounds: int = 4) -> dict[str, list[WrkResult]]:
    from bastion.demo.tabular import sample_inputs

    rx, url = _start_receiver(cpu=1)
    configs = {}
    for name, cfg in (
        ("no actions", None),
        ("1 action, dispatcher off", _actions_config(url, dispatcher=False)),
        ("1 action, dispatcher on", _actions_config(url, dispatcher=True)),
    ):
        env = {}
        if cfg is not None:
            path = Path(tempfile.mkdtemp()) / "bastion.yaml"
            path.write_text(json.dumps({"actions": cfg}))
            env["BASTION_CONFIG"] = str(path)
        configs[name] = env
    servers = {name: start_bastion(cpu=0, extra_env=env) for name, env in configs.items()}
    body = orjson.dumps({"input": sample_inputs(1)[0]}).decode()
    results: dict[str, list[WrkResult]] = {}
    try:
        for server in servers.values():
            wrk(server.url + "/v1/deployments/breast-cancer/predict", body, server.key, 1, 2)
        for _ in range(rounds):
            for name, server in servers.items():
                target = server.url + "/v1/deployments/breast-cancer/predict"
                results.setdefault(name, []).append(wrk(target, body, server.key, 1, seconds))
    finally:
        for server in servers.values():
            server.stop()
        rx.terminate()
    return results


def dispatcher_throughput(n: int = 10_000) -> tuple[float, float, int]:
    """Actions/s of one dispatcher delivering ``n`` queued actions to a receiver process."""
    from bastion.actions.compiled import Catalog
    from bastion.actions.destinations import build_destination
    from bastion.actions.dispatcher import Dispatcher
    from bastion.actions.outbox import OutboxStore
    from bastion.settings.actions import ActionsSettings
    from bastion.store import Database, migrate

    rx, url = _start_receiver(cpu=1)
    path = Path(tempfile.mkdtemp()) / "bastion.db"
    asyncio.run(migrate.upgrade(f"sqlite:///{path}"))
    cfg = ActionsSettings.model_validate(_actions_config(url))

    async def run() -> tuple[float, float]:
        db = Database(f"sqlite:///{path}")
        store = OutboxStore(db)
        for start in range(0, n, 1000):
            await store.insert([_intent(i) for i in range(start, min(n, start + 1000))])
        dests = {k: build_destination(k, d) for k, d in cfg.destinations.items()}
        d = Dispatcher(store, Catalog(cfg), dests, cfg, worker="bench")
        t0, c0 = time.perf_counter(), time.process_time()
        while await d.run_once():
            pass
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        for dest in dests.values():
            await dest.aclose()
        await db.aclose()
        return n / elapsed, n / cpu

    try:
        rate, per_cpu = asyncio.run(run())
        import httpx

        accepted = int(httpx.get(url + "/count").json()["accepted"])
    finally:
        rx.terminate()
    return rate, per_cpu, accepted


NATS_URL = "nats://127.0.0.1:4222"


def nats_in_out(burst: int = 2000, sequential: int = 300) -> dict[str, float]:
    """Requests/s of a burst through the NATS intake, and p50/p99 one at a time."""
    import secrets

    tag = "bench" + secrets.token_hex(3)
    intake = {
        "deployment": "breast-cancer",
        "url": NATS_URL,
        "stream": tag,
        "subject": f"{tag}.in",
        "durable": "bench",
        "reply_subject": f"{tag}.out",
        "max_in_flight": 128,
    }
    path = Path(tempfile.mkdtemp()) / "bastion.yaml"
    path.write_text(json.dumps({"actions": {"intake": [intake]}}))
    server = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(path)})
    try:
        return asyncio.run(_nats_run(tag, server.key, burst, sequential))
    finally:
        server.stop()


async def _nats_run(tag: str, key: str, burst: int, sequential: int) -> dict[str, float]:
    import nats

    from bastion.demo.tabular import sample_inputs

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    body = orjson.dumps({"input": sample_inputs(1)[0]})
    headers = {"Authorization": f"Bearer {key}"}
    done: dict[str, float] = {}
    arrived = asyncio.Event()
    want = [0]

    async def on_result(msg: Any) -> None:
        done.setdefault(msg.headers.get("Bastion-Request-Id", ""), time.perf_counter())
        if len(done) >= want[0]:
            arrived.set()

    await asyncio.sleep(3)  # the server's consumer and stream are set up at its start
    await nc.subscribe(f"{tag}.out", cb=on_result)
    latencies = []
    for i in range(sequential + 20):  # one at a time (the first 20 warm up)
        want[0] = len(done) + 1
        arrived.clear()
        t0 = time.perf_counter()
        await js.publish(f"{tag}.in", body, headers={**headers, "Nats-Msg-Id": f"s{i}"})
        await asyncio.wait_for(arrived.wait(), 30)
        if i >= 20:
            latencies.append(done[f"s{i}"] - t0)
    want[0] = len(done) + burst
    arrived.clear()
    t0 = time.perf_counter()
    for i in range(burst):
        await js.publish(f"{tag}.in", body, headers={**headers, "Nats-Msg-Id": f"b{i}"})
    await asyncio.wait_for(arrived.wait(), 300)
    elapsed = max(done[f"b{i}"] for i in range(burst)) - t0
    await nc.close()
    latencies.sort()
    return {
        "burst_rps": burst / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def main() -> str:
    micro = commit_in_process()
    rate, per_cpu, accepted = dispatcher_throughput()
    nats_figures = nats_in_out()
    served = predict_added()
    return _report(micro, (rate, per_cpu, accepted), nats_figures, served)


def _report(
    micro: dict[str, float],
    dispatch: tuple[float, float, int],
    nats_figures: dict[str, float],
    served: dict[str, list[WrkResult]],
) -> str:
    rate, per_cpu, accepted = dispatch
    lines = [
        "### Action layer — issue 14",
        "",
        "The outbox write on the decision's commit, in-process (median µs, one record per "
        "commit on a fresh SQLite file):",
        "",
        "| what | µs |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {value:.1f} |" for name, value in micro.items()]
    for d in ("fsync", "process"):
        added = micro[f"append + 1 intent, durability={d}"] - micro[f"append, durability={d}"]
        lines.append(
            f"\n- one intent added to the audit commit (durability={d}): **{added:+.1f} µs**"
        )
    lines += [
        "",
        "| predict (breast-cancer), c=1 | req/s | p50 ms (median of rounds) | added p50 | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    base = statistics.median(r.p50_ms for r in served["no actions"])
    for name, runs in served.items():
        p50 = statistics.median(r.p50_ms for r in runs)
        rps = statistics.median(r.rps for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        lines.append(f"| {name} | {rps:,.0f} | {p50:.3f} | {p50 - base:+.3f} ms | {p99:.3f} |")
    verdict = "meets" if rate >= 2000 else "MISSES"
    lines += [
        "",
        f"Dispatcher: **{rate:,.0f} actions/s** from one process to a local receiver in another "
        f"process (10,000 queued actions, SQLite outbox, batches of 500; {accepted:,} distinct "
        f"idempotency keys accepted; {verdict} the ≥ 2,000/s target); "
        f"{per_cpu:,.0f} actions per CPU-second of the dispatcher's process.",
        "",
        f"NATS in → out (breast-cancer, one server process, durable pull consumer, 128 in "
        f"flight): a burst of 2,000 requests at **{nats_figures['burst_rps']:,.0f} requests/s** "
        f"until the last result; one request at a time, publish → result p50 "
        f"**{nats_figures['p50_ms']:.2f} ms**, p99 **{nats_figures['p99_ms']:.2f} ms**.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "receiver":
        receiver(int(sys.argv[2]))
    else:
        print(main())
