"""Three gateway replicas with their own data dirs (as three hosts would have) on one
PostgreSQL, one Redis and NATS (issue 18).

A model registered through A serves on B and C (its artifact read from the shared store into
each replica's own cache); a promote or rollback through any replica reaches all three (in
0.05–0.6 s measured, printed by the test, which bounds it generously: tests assert no
timings on a shared machine); rate limits stay exact and budgets are never overspent across
them; a replica that loses Redis (its own road to it cut by a proxy; the shared Redis stays
up for the others) follows its documented ``on_unavailable`` policy and recovers; a replica
killed with kill -9 leaves the others serving, with errors only for the requests it held.

The three share the host's network: a replica in a network namespace of its own, reaching
the services only through forwarded addresses as from another host, is
tests/e2e/test_cluster_netns.py (skipped, saying why, where ``ip netns`` is not allowed).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bastion.demo.tabular import sample_inputs, train_breast_cancer
from bastion.testing import FaultUpstream, running_upstream
from tests.actions.conftest import NATS_URL
from tests.dbfixtures import PostgresDatabases
from tests.e2e.server import Server, make_server
from tests.e2e.tcp_proxy import TcpProxy, tcp_proxy
from tests.e2e.test_limits import LIMIT, REDIS_URL, chat, config, fire, new_key, spend_check
from tests.registry.s3server import CREDENTIALS, make_bucket, running_s3
from tests.support import service_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]

MODEL = "bc-cluster"
PREDICT = f"/v1/deployments/{MODEL}/predict"
ROWS = sample_inputs(4)


def _redis_prefix() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return f"bastion-cluster-{secrets.token_hex(4)}:"


async def _nats_stream(name: str) -> None:
    import nats

    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:
        service_unavailable(f"NATS is not reachable at {NATS_URL}: {type(exc).__name__}")
    await nc.jetstream().add_stream(name=name, subjects=[f"{name}.>"])
    await nc.close()


async def _alias_events(stream: str) -> list[dict[str, Any]]:
    import nats

    nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    js = nc.jetstream()
    sub = await js.subscribe(f"{stream}.alias", stream=stream, ordered_consumer=True)
    found = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            found.append(json.loads(msg.data)["data"])
    except nats.errors.TimeoutError:
        pass
    await nc.close()
    return found


def _config(upstream: str, redis_url: str, prefix: str, stream: str) -> dict[str, Any]:
    cfg = config(upstream, "redis", prefix)
    cfg["governance"]["redis_url"] = redis_url
    cfg["governance"]["budgets"]["retry_interval_s"] = 0.5
    cfg["registry"] = {"poll_interval_s": 0.1}
    bus = {"kind": "nats", "url": NATS_URL, "stream": stream, "subjects": [f"{stream}.>"]}
    cfg["actions"] = {
        "destinations": {"bus": bus},
        "events": [{"destination": "bus", "subject_prefix": stream, "types": ["alias"]}],
    }
    return cfg


class Cluster:
    def __init__(self, replicas: list[Server], proxy: TcpProxy, stream: str) -> None:
        self.a, self.b, self.c = replicas
        self.replicas = replicas
        self.proxy = proxy  # B's only road to Redis
        self.stream = stream


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultUpstream]:
    with running_upstream() as up:
        yield up


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FaultUpstream,
    postgres_databases: PostgresDatabases,
) -> Iterator[Cluster]:
    prefix = _redis_prefix()
    stream = "cluster" + secrets.token_hex(4)
    asyncio.run(_nats_stream(stream))
    url = postgres_databases.create()
    root = tmp_path_factory.mktemp("cluster3")
    host, port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    with tcp_proxy(host, int(port)) as proxy:
        servers = []
        for name in ("a", "b", "c"):
            redis_url = f"redis://127.0.0.1:{proxy.port}/0" if name == "b" else REDIS_URL
            cfg_path = root / f"{name}.yaml"
            cfg_path.write_text(
                yaml.safe_dump(_config(upstream.base_url, redis_url, prefix, stream))
            )
            server = make_server(
                root / name,
                database_url=url,
                BASTION_CONFIG=str(cfg_path),
                BASTION_DEMO="false",
                **CREDENTIALS,  # for the migration to a test S3 server
            )
            if servers:
                server.admin_key = servers[0].admin_key
                server.env["BASTION_ADMIN_KEY"] = server.admin_key
            servers.append(server)
        servers[0].start()  # migrates and makes the admin key; then the others together
        starting = [threading.Thread(target=s.start) for s in servers[1:]]
        for t in starting:
            t.start()
        for t in starting:
            t.join()
        try:
            for s in servers[1:]:
                assert s.proc is not None and s.proc.poll() is None, s.log()
                assert httpx.get(f"{s.url}/readyz", timeout=5).status_code == 200, s.log()
            yield Cluster(servers, proxy, stream)
        finally:
            for s in servers:
                s.stop()
            _forget(prefix)


def _forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _register(server: Server, tmp_path: Path, c: float) -> int:
    trained = train_breast_cancer(c=c)
    model = tmp_path / f"bc-{c}.onnx"
    model.write_bytes(trained.artifact)
    sig = tmp_path / f"sig-{c}.json"
    sig.write_text(json.dumps(trained.signature))
    out = server.cli("models", "register", MODEL, str(model), "--signature", str(sig))
    return int(out.stdout.split("version ")[1].split()[0])


def _answer(server: Server) -> tuple[int, Any]:
    r = server.post(PREDICT, json={"inputs": ROWS})
    assert r.status_code == 200, f"{server.url}: {r.text}"
    return int(r.headers["x-bastion-model-version"]), r.json()["outputs"]


def _until_all_serve(cluster: Cluster, version: int, within: float) -> dict[str, float]:
    """Seconds until each replica answers with ``version`` (polled together)."""
    start = time.monotonic()
    took: dict[str, float] = {}

    async def watch(name: str, server: Server) -> None:
        async with httpx.AsyncClient(headers=server.auth, timeout=10) as client:
            while time.monotonic() - start < within:
                r = await client.post(server.url + PREDICT, json={"inputs": ROWS[:1]})
                if r.status_code == 200 and r.headers["x-bastion-model-version"] == str(version):
                    took[name] = time.monotonic() - start
                    return
                await asyncio.sleep(0.02)

    async def all_of() -> None:
        await asyncio.gather(*(watch(n, s) for n, s in zip("abc", cluster.replicas, strict=True)))

    asyncio.run(all_of())
    return took


class Watchers:
    """Warm clients polling every replica without pause from a thread of their own, each
    answer recorded as ``(replica, received_at, version)``: how long a change took to reach
    a replica is bounded by the first answer with the new version (its own latency included)."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._stop = threading.Event()
        self.seen: list[tuple[str, float, int]] = []
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),))

    async def _run(self) -> None:
        async def watch(name: str, server: Server) -> None:
            async with httpx.AsyncClient(headers=server.auth, timeout=10) as client:
                while not self._stop.is_set():
                    r = await client.post(server.url + PREDICT, json={"inputs": ROWS[:1]})
                    if r.status_code == 200:
                        version = int(r.headers["x-bastion-model-version"])
                        self.seen.append((name, time.monotonic(), version))
                    await asyncio.sleep(0.02)

        names = "abc"
        await asyncio.gather(
            *(watch(n, s) for n, s in zip(names, self._cluster.replicas, strict=True))
        )

    def __enter__(self) -> Watchers:
        self._thread.start()
        deadline = time.monotonic() + 30
        while {name for name, _, _ in self.seen} != set("abc"):  # every client warm
            assert time.monotonic() < deadline, "a replica does not answer"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def reached(self, version: int, since: float, within: float) -> dict[str, float]:
        """Seconds from ``since`` until each replica first answered ``version``."""
        deadline = time.monotonic() + within
        while True:
            first: dict[str, float] = {}
            for name, at, seen in list(self.seen):
                if seen == version and at >= since and name not in first:
                    first[name] = at - since
            if len(first) == 3 or time.monotonic() > deadline:
                return first
            time.sleep(0.05)


def test_a_model_registered_through_a_serves_on_b_and_c(cluster: Cluster, tmp_path: Path) -> None:
    v1 = _register(cluster.a, tmp_path, c=1.0)
    sha = cluster.a.get(f"/v1/admin/models/{MODEL}/versions/{v1}").json()["artifact_sha256"]
    for server in (cluster.b, cluster.c):  # registered on A: nothing of it on B's or C's disk
        assert not list((server.data_dir / "artifacts").rglob(sha))
    cluster.a.cli("models", "promote", MODEL, str(v1))
    took = _until_all_serve(cluster, v1, within=60)
    assert set(took) == {"a", "b", "c"}, {s.url: s.log()[-3000:] for s in cluster.replicas}
    answers = [_answer(s) for s in cluster.replicas]
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == v1
    for server in cluster.replicas:  # each replica now holds its own verified copy
        (cached,) = list((server.data_dir / "artifacts").rglob(sha))
        assert cached.stat().st_size > 0
    verify = cluster.b.cli("models", "verify", MODEL)
    assert "database: sha256 matches" in verify.stdout, verify.stdout


def test_promote_and_rollback_reach_every_replica_within_a_second(
    cluster: Cluster, tmp_path: Path
) -> None:
    v1 = _answer(cluster.a)[0]
    v2 = _register(cluster.b, tmp_path, c=0.05)  # registered through B this time
    with Watchers(cluster) as watchers:
        r = cluster.c.post(f"/v1/admin/models/{MODEL}/promote", json={"version": v2})
        assert r.status_code == 200, r.text
        promoted = watchers.reached(v2, time.monotonic(), within=30)  # from the commit on
        r = cluster.a.post(f"/v1/admin/models/{MODEL}/rollback", json={})
        assert r.status_code == 200 and r.json()["version"] == v1, r.text
        rolled_back = watchers.reached(v1, time.monotonic(), within=30)
    print(f"promote reached replicas in {promoted}, rollback in {rolled_back}")
    assert set(promoted) == set(rolled_back) == {"a", "b", "c"}
    # The design bound is one poll interval plus the version's load (0.1 s here; about 0.6 s
    # measured on an idle machine). Each figure also holds the answering request's own
    # latency, which a shared, loaded 2-core machine stretches: the test bounds it generously
    # (tests assert no timings) and prints what it measured.
    assert max(promoted.values()) <= 5.0, promoted
    assert max(rolled_back.values()) <= 5.0, rolled_back
    deadline = time.monotonic() + 30  # every replica publishes; JetStream keeps each once
    while True:
        events = asyncio.run(_alias_events(cluster.stream))
        moves = [(e["action"], e["version"]) for e in events if e["model"] == MODEL]
        if ("rollback", v1) in moves or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert moves == [("promote", v1), ("promote", v2), ("rollback", v1)], moves


def test_a_rate_limit_admits_exactly_its_limit_across_three_replicas(cluster: Cluster) -> None:
    key = new_key(cluster.a, tenant="rl3", team="rl3")
    responses = asyncio.run(fire(cluster.replicas, key, chat("fast"), 3 * LIMIT))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == LIMIT, sorted(set(codes))
    assert codes.count(429) == 2 * LIMIT
    assert {r.url.port for r in responses if r.status_code == 200} == {
        s.port for s in cluster.replicas
    }


def test_a_budget_is_never_overspent_across_three_replicas(cluster: Cluster) -> None:
    spend_check(cluster.replicas, "budget-three")


def test_a_replica_that_loses_redis_follows_its_policy_and_recovers(cluster: Cluster) -> None:
    key = new_key(cluster.a, tenant="outage", team="outage")
    headers = {"Authorization": f"Bearer {key}"}
    ok = cluster.b.post("/v1/chat/completions", json=chat("fast"), headers=headers)
    assert ok.status_code == 200, ok.text
    cluster.proxy.cut()  # B alone loses Redis; the shared Redis serves A and C on
    try:
        refused = cluster.b.post("/v1/chat/completions", json=chat("fast"), headers=headers)
        # budgets.on_unavailable: closed (the default): no money spent that cannot be counted
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["type"] == "overloaded"
        assert refused.headers["retry-after"] == "1"
        for other in (cluster.a, cluster.c):
            r = other.post("/v1/chat/completions", json=chat("fast"), headers=headers)
            assert r.status_code == 200, r.text
        held = cluster.b.post(PREDICT, json={"inputs": ROWS[:1]})  # the tenant rule holds all
        assert held.status_code == 503 and held.json()["error"]["type"] == "overloaded"
    finally:
        cluster.proxy.restore()
    deadline = time.monotonic() + 30
    while True:
        back = cluster.b.post("/v1/chat/completions", json=chat("fast"), headers=headers)
        if back.status_code == 200:
            break
        assert time.monotonic() < deadline, back.text
        time.sleep(0.2)
    budgets = cluster.c.get("/v1/costs/budgets?tenant=outage").json()["data"]
    (tenant_budget,) = [b for b in budgets if b["scope"] == "tenant"]
    assert tenant_budget["spent_requests"] == 4  # B before, A and C during, B after: shared


def test_a_replica_killed_with_kill_9_leaves_the_others_serving(cluster: Cluster) -> None:
    victim = cluster.c
    stop = threading.Event()
    outcomes: list[tuple[str, int | str]] = []

    async def load() -> None:
        async def worker(i: int) -> None:
            async with httpx.AsyncClient(timeout=30) as client:
                n = i
                while not stop.is_set():
                    server = cluster.replicas[n % 3]
                    n += 1
                    try:
                        r = await client.post(
                            server.url + PREDICT, json={"inputs": ROWS[:1]}, headers=server.auth
                        )
                        outcomes.append((server.url, r.status_code))
                    except httpx.HTTPError as exc:
                        outcomes.append((server.url, type(exc).__name__))

        await asyncio.gather(*(worker(i) for i in range(12)))

    runner = threading.Thread(target=asyncio.run, args=(load(),))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while len(outcomes) < 150:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        killed_at = len(outcomes)
        while len(outcomes) < killed_at + 300:
            assert time.monotonic() < deadline + 60
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(60)
    failures = [(url, what) for url, what in outcomes if what != 200]
    assert failures, "the victim answered after kill -9?"
    assert {url for url, _ in failures} == {victim.url}, failures[:20]
    survivors = [o for o in outcomes[killed_at:] if o[0] != victim.url]
    assert len(survivors) >= 150 and all(what == 200 for _, what in survivors)
    for server in (cluster.a, cluster.b):  # and they still take admin changes
        assert _answer(server)[0] >= 1


def test_artifacts_migrate_to_an_s3_store_verified(cluster: Cluster, tmp_path: Path) -> None:
    pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
    with running_s3(tmp_path) as endpoint:
        make_bucket(endpoint, "bastion-cluster")
        target = f"s3://bastion-cluster/reg?endpoint_url={endpoint}&region=us-east-1"
        out = cluster.a.cli("artifacts", "migrate", "--to", target)
        assert "copied" in out.stdout and "0 failed" in out.stdout, out.stdout
        again = cluster.a.cli("artifacts", "migrate", "--to", target)
        assert "0 copied" in again.stdout, again.stdout  # each already there, checked
        bogus = cluster.a.cli("artifacts", "migrate", "--to", "database", check=False)
        assert bogus.returncode != 0  # they already live there: refused, nothing copied
        shown = cluster.b.cli("artifacts", "show").stdout
        assert shown.startswith("store: database"), shown
        count = int(shown.split("artifacts: ")[1])
        assert f": {count} copied, 0 already there, 0 failed" in out.stdout, out.stdout
