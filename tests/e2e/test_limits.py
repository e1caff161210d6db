"""Rate limits and budgets through real gateway processes: one node, and two sharing Redis.

Two ``bastion serve`` processes share one PostgreSQL database (so a key is the same key on
both) and one Redis (so their counters are one counter). A limit of 100/min admits exactly
100 of 300 requests spread over both; 50 concurrent requests against a nearly exhausted
budget never overspend it, on one node (in-process counters) and on two (Redis).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.dbfixtures import PostgresDatabases
from tests.e2e.server import Server, make_server
from tests.support import service_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 100
BUDGET_USD = 0.10
PER_CALL_USD = 0.01  # 10 completion tokens x $0.001, estimated and actual alike
QUESTION = "please answer with at least ten words so that max tokens truncates this reply"


def config(upstream: str, store: str, prefix: str) -> dict[str, Any]:
    def group(name: str, out_price: float) -> dict[str, Any]:
        member = {"name": name, "base_url": upstream, "model": f"m-{name}"}
        return {"name": name, "upstreams": [{**member, "output_price_per_1m": out_price}]}

    return {
        "demo": False,
        "llm": {"groups": [group("fast", 0.0), group("paid", 1000.0)]},
        "guards": {"llm": {"pii": "allow", "injection": "off"}},
        "governance": {
            "store": store,
            "redis_url": REDIS_URL,
            "key_prefix": prefix,
            "rate_limits": {"rules": [{"scope": "team", "limit": LIMIT, "period_s": 60}]},
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_usd": BUDGET_USD}]},
        },
    }


def start(data: Path, cfg: dict[str, Any], **env: str) -> Server:
    data.mkdir(parents=True, exist_ok=True)
    (data / "bastion.yaml").write_text(yaml.safe_dump(cfg))
    return make_server(data / "srv", BASTION_CONFIG=str(data / "bastion.yaml"), **env).start()


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultUpstream]:
    with running_upstream() as up:
        yield up


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"bastion-e2e-{secrets.token_hex(4)}:"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FaultUpstream,
    redis_prefix: str,
    postgres_databases: PostgresDatabases,
) -> Iterator[tuple[Server, Server]]:
    """Two gateway processes: one PostgreSQL database, one Redis, one admin key."""
    url = postgres_databases.create()
    root = tmp_path_factory.mktemp("cluster")
    (root / "bastion.yaml").write_text(
        yaml.safe_dump(config(upstream.base_url, "redis", redis_prefix))
    )
    env = {"BASTION_CONFIG": str(root / "bastion.yaml")}
    first = make_server(root / "a", database_url=url, **env).start()
    second = make_server(root / "b", database_url=url, BASTION_ADMIN_KEY=first.admin_key, **env)
    second.admin_key = first.admin_key
    second.start()
    yield first, second
    second.stop()
    first.stop()


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, upstream: FaultUpstream) -> Iterator[Server]:
    cfg = config(upstream.base_url, "memory", "unused:")
    server = start(tmp_path_factory.mktemp("single"), cfg)
    yield server
    server.stop()


def new_key(server: Server, **body: Any) -> str:
    r = server.post("/v1/admin/keys", json={"name": "limits", "roles": ["client"], **body})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def chat(model: str) -> dict[str, Any]:
    return {"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": QUESTION}]}


async def fire(
    servers: list[Server], key: str, body: dict[str, Any], n: int
) -> list[httpx.Response]:
    """``n`` requests at once, spread round-robin over ``servers``."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"{servers[i % len(servers)].url}/v1/chat/completions",
                    json=body,
                    headers=headers,
                )
                for i in range(n)
            )
        )


def test_two_gateways_sharing_redis_admit_exactly_the_limit(cluster: tuple[Server, Server]) -> None:
    first, second = cluster
    key = new_key(first, tenant="rl-tenant", team="rl")
    responses = asyncio.run(fire([first, second], key, chat("fast"), 3 * LIMIT))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == LIMIT, sorted(set(codes))
    assert codes.count(429) == 2 * LIMIT
    served_by = {r.url.port for r in responses if r.status_code == 200}
    assert served_by == {first.port, second.port}  # both nodes admitted some
    for r in responses:
        assert r.headers["x-ratelimit-limit-requests"] == str(LIMIT)
        if r.status_code == 429:
            assert r.json()["error"]["type"] == "rate_limited"
            assert int(r.headers["retry-after"]) >= 1
            assert r.headers["x-ratelimit-remaining-requests"] == "0"


def spend_check(servers: list[Server], tenant: str) -> None:
    """Prespend 7 of the 10 calls the budget holds, then fire 50 at once: exactly 3 fit."""
    key = new_key(servers[0], tenant=tenant)
    headers = {"Authorization": f"Bearer {key}"}
    for i in range(7):
        r = servers[i % len(servers)].post(
            "/v1/chat/completions", json=chat("paid"), headers=headers
        )
        assert r.status_code == 200, r.text
        assert float(r.headers["x-bastion-cost-usd"]) == pytest.approx(PER_CALL_USD)
    responses = asyncio.run(fire(servers, key, chat("paid"), 50))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 3, sorted(set(codes))
    refused = [r for r in responses if r.status_code != 200]
    assert {r.json()["error"]["type"] for r in refused} == {"budget_exceeded"}
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    budgets = servers[-1].get(f"/v1/costs/budgets?tenant={tenant}").json()["data"]
    (tenant_budget,) = [b for b in budgets if b["scope"] == "tenant"]
    assert tenant_budget["spent_usd"] == pytest.approx(BUDGET_USD)
    assert tenant_budget["spent_usd"] <= BUDGET_USD
    assert tenant_budget["reserved_usd"] == 0
    assert tenant_budget["spent_requests"] == 10


def test_concurrent_requests_never_overspend_a_budget_on_one_node(single: Server) -> None:
    spend_check([single], "budget-one")


def test_concurrent_requests_never_overspend_a_budget_on_two_nodes(
    cluster: tuple[Server, Server],
) -> None:
    spend_check(list(cluster), "budget-two")


def test_costs_report_counts_what_was_spent(single: Server) -> None:
    key = new_key(single, tenant="report", team="r1")
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(2):
        r = single.post("/v1/chat/completions", json=chat("paid"), headers=headers)
        assert r.status_code == 200
    rows: list[dict[str, Any]] = []
    for _ in range(200):  # the usage log is written in batches (every 0.5 s)
        rows = single.get("/v1/costs?by=model&tenant=report").json()["data"]
        if rows and rows[0]["requests"] == 2:
            break
        time.sleep(0.05)
    assert rows[0]["requests"] == 2 and rows[0]["completion_tokens"] == 20
    assert rows[0]["cost_usd"] == pytest.approx(2 * PER_CALL_USD)
    done = single.cli(
        "costs", "report", "--by", "model", "--by", "team", "--tenant", "report", "--json"
    )
    report = json.loads(done.stdout)
    assert report["by"] == ["model", "team"]
    assert [(r["model"], r["team"], r["requests"]) for r in report["data"]] == [("paid", "r1", 2)]
    assert report["total_usd"] == pytest.approx(2 * PER_CALL_USD)
    table = single.cli("costs", "report", "--by", "tenant", "--tenant", "report").stdout
    assert "report" in table and "0.020000" in table
