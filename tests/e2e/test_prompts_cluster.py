"""Prompt aliases across two gateway processes on one PostgreSQL and one Redis: a promotion
and a rollback made through one replica are served by both (the models' mechanism: each
replica polls the newest alias change id, ``registry.poll_interval_s``)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.dbfixtures import PostgresDatabases
from tests.e2e.server import Server, make_server
from tests.support import service_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def spec(words: str) -> dict[str, Any]:
    return {
        "model": "fast",
        "variables": {"type": "object", "properties": {"q": {"type": "string"}}},
        "messages": [{"role": "user", "content": f"{words} {{{{q}}}}"}],
    }


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Iterator[tuple[Server, Server]]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"bastion-prompts-{secrets.token_hex(4)}:"
    url = postgres_databases.create()
    root = tmp_path_factory.mktemp("prompt-cluster")
    with running_upstream(FaultUpstream(reply_prefix="")) as upstream:
        member = {"name": "fast", "base_url": upstream.base_url, "model": "m-fast"}
        cfg = {
            "demo": False,
            "llm": {"groups": [{"name": "fast", "upstreams": [member]}]},
            "guards": {"llm": {"pii": "allow", "injection": "off"}},
            "governance": {"store": "redis", "redis_url": REDIS_URL, "key_prefix": prefix},
        }
        (root / "bastion.yaml").write_text(yaml.safe_dump(cfg))
        env = {"BASTION_CONFIG": str(root / "bastion.yaml")}
        first = make_server(root / "a", database_url=url, **env).start()
        second = make_server(root / "b", database_url=url, BASTION_ADMIN_KEY=first.admin_key, **env)
        second.admin_key = first.admin_key
        try:
            second.start()
            yield first, second
        finally:
            second.stop()
            first.stop()
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
            client.close()


def served(server: Server) -> str:
    r = server.post("/v1/prompts/greet/completions", json={"variables": {"q": "there"}})
    assert r.status_code == 200, r.text
    return r.headers["x-bastion-prompt-version"]


def until_both(servers: tuple[Server, ...], version: str, timeout: float = 30.0) -> list[float]:
    """Seconds until each server serves ``version`` (polled; a generous timeout for a
    loaded machine: the figure is reported, never asserted)."""
    began = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < len(servers):
        for i, server in enumerate(servers):
            if i not in seen and served(server) == version:
                seen[i] = time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not every replica serves v{version} after {timeout}s: {seen}")
        time.sleep(0.02)
    return [seen[i] for i in range(len(servers))]


def test_promote_and_rollback_reach_both_replicas(
    cluster: tuple[Server, Server], tmp_path: Path
) -> None:
    first, second = cluster
    for words in ("Hello", "Good day"):
        path = tmp_path / "prompt.yaml"
        path.write_text(yaml.safe_dump(spec(words)))
        first.cli("prompts", "register", "greet", str(path))
    first.cli("prompts", "promote", "greet", "1")
    until_both(cluster, "1")
    # promoted through the first replica: the second follows by itself
    first.cli("prompts", "promote", "greet", "2")
    assert served(first) == "2"  # the replica that made the change answers with it at once
    promoted = until_both(cluster, "2")
    # rolled back through the second replica: the first follows
    second.cli("prompts", "rollback", "greet", "--reason", "drill")
    assert served(second) == "1"
    rolled = until_both(cluster, "1")
    print(f"seconds to serve the promotion on each replica: {promoted}; rollback: {rolled}")
    for server in cluster:  # both read the same history
        events = server.get("/v1/admin/prompts/greet/history").json()["data"]
        assert [e["action"] for e in events] == ["promote", "promote", "rollback"]
