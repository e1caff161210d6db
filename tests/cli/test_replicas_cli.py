"""The CLI against two replicas, each with its own data dir, on one PostgreSQL database: what
one replica's CLI changes, the other's CLI reads, with the same plans, audit and keys."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import ROLLOUT_MODELS, ok, refused
from tests.dbfixtures import PostgresDatabases
from tests.e2e.server import Server, make_server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CONFIG = {
    "deployments": [{"name": "rep", "model": "rep"}],
    "rollouts": {
        "tick_s": 0.05,
        "persist_interval_s": 0.1,
        "deployments": [{"deployment": "rep", "canary": {"steps": [20, 100], "min_requests": 4}}],
    },
}


@pytest.fixture(scope="module")
def replicas(
    postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    root = tmp_path_factory.mktemp("replicas")
    config = root / "bastion.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    url = postgres_databases.create()
    servers = [
        make_server(
            root / name,
            database_url=url,
            BASTION_DEMO="false",
            BASTION_CONFIG=str(config),
        )
        for name in ("a", "b")
    ]
    servers[1].env["BASTION_ADMIN_KEY"] = servers[0].admin_key  # one cluster, one admin key
    servers[1].admin_key = servers[0].admin_key
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def test_what_one_replica_changes_the_other_reads(
    replicas: tuple[Server, Server], elsewhere: Path
) -> None:
    a, b = replicas
    for fn in ("stable", "same_label"):
        ok(a, "models", "register", "rep", "--entry-point", f"{ROLLOUT_MODELS}:{fn}")
    ok(a, "models", "promote", "rep", "1")
    # B's CLI, from elsewhere, without a data dir, sees A's registry through B
    bare: dict[str, str | None] = {"BASTION_DATA_DIR": None, "BASTION_CONFIG": None}
    listed = ok(b, "models", "list", env=bare, cwd=elsewhere)
    assert "rep" in listed and "production→v1" in listed
    assert "promote" in ok(b, "models", "history", "rep", env=bare, cwd=elsewhere)

    started = ok(b, "canary", "start", "rep", "2", env=bare, cwd=elsewhere)
    assert "steps 20%, 100%" in started  # the configured plan, on either replica
    status = json.loads(ok(a, "canary", "status", "rep", "--json"))
    assert status["canary"]["status"] == "running" and status["canary"]["version"] == 2
    assert "already has a running canary" in refused(a, "canary", "start", "rep", "2")
    ok(a, "canary", "abort", "rep", "--reason", "done")

    exported = [json.loads(x) for x in ok(b, "audit", "export").splitlines()]
    changes = [r for r in exported if r["kind"] == "admin" and r["status"] != "refused"]
    assert [r["action"] for r in changes][-2:] == ["canary.start", "canary.abort"]
    assert any(r["status"] == "refused" for r in exported)  # the refused start is evidence
    assert json.loads(ok(b, "audit", "verify", "--json"))["ok"]


def test_a_key_made_on_one_replica_works_on_the_other(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    out = ok(b, "keys", "create", "--name", "rep-op", "--role", "operator")
    secret = out.strip().splitlines()[-1]
    assert "rep" in ok(a, "models", "list", env={"BASTION_KEY": secret})
    key_id = out.split()[1]
    ok(a, "keys", "revoke", key_id)
    for _ in range(40):  # replicas stop accepting a revoked key within five seconds
        done = b.cli("models", "list", "--key", secret, check=False)
        if done.returncode == 1:
            break
        time.sleep(0.25)
    assert done.returncode == 1 and "401" in done.stderr
