"""A replica on a network of its own (issue 18): in its own network namespace (``ip netns``)
with its own data dir, it reaches PostgreSQL and Redis only through the addresses the test
forwards to it, as a replica on another host would; a model registered through a replica on
the host serves there from the shared artifact store, with the same answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.dbfixtures import PostgresDatabases
from tests.e2e.netns import Namespace, namespace
from tests.e2e.server import Server, free_port, make_server
from tests.e2e.tcp_proxy import tcp_proxy
from tests.e2e.test_cluster import MODEL, PREDICT, ROWS, _redis_prefix, _register
from tests.e2e.test_limits import REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]


def _reaches(ns: Namespace, host: str, port: int) -> bool:
    code = f"import socket; socket.create_connection(({host!r}, {port}), timeout=3).close()"
    done = subprocess.run(
        [*ns.exec(), sys.executable, "-c", code], check=False, capture_output=True
    )
    return done.returncode == 0


@pytest.fixture
def pair(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[tuple[Server, Server, Namespace]]:
    prefix = _redis_prefix()
    url = postgres_databases.create()
    redis_host, redis_port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    cfg = {
        "governance": {"store": "redis", "key_prefix": prefix},
        "registry": {"poll_interval_s": 0.1},
    }
    with (
        namespace() as ns,
        tcp_proxy("127.0.0.1", 5432, listen=ns.host_ip) as pg,
        tcp_proxy(redis_host, int(redis_port), listen=ns.host_ip) as rd,
    ):
        host_cfg = tmp_path / "host.yaml"
        host_cfg.write_text(
            yaml.safe_dump({**cfg, "governance": {**cfg["governance"], "redis_url": REDIS_URL}})
        )
        far_cfg = tmp_path / "far.yaml"
        far_redis = f"redis://{ns.host_ip}:{rd.port}/0"
        far_cfg.write_text(
            yaml.safe_dump({**cfg, "governance": {**cfg["governance"], "redis_url": far_redis}})
        )
        near = make_server(
            tmp_path / "near", database_url=url, BASTION_CONFIG=str(host_cfg), BASTION_DEMO="false"
        ).start()
        far_url = url.replace("127.0.0.1:5432", f"{ns.host_ip}:{pg.port}")
        far = make_server(
            tmp_path / "far",
            database_url=far_url,
            BASTION_CONFIG=str(far_cfg),
            BASTION_DEMO="false",
            BASTION_ADMIN_KEY=near.admin_key,
        )
        far.admin_key = near.admin_key
        far.host, far.wrapper, far.port = ns.ns_ip, ns.exec(), free_port()
        try:
            far.start()
            yield near, far, ns
        finally:
            far.stop()
            near.stop()


def test_a_replica_in_its_own_network_namespace_serves_what_another_registered(
    pair: tuple[Server, Server, Namespace], tmp_path: Path
) -> None:
    near, far, ns = pair
    assert not _reaches(ns, "127.0.0.1", 5432)  # the host's services are not its own
    v1 = _register(near, tmp_path, c=1.0)
    near.cli("models", "promote", MODEL, str(v1))
    deadline = time.monotonic() + 60
    while True:
        r = far.post(PREDICT, json={"inputs": ROWS})
        if r.status_code == 200:
            break
        assert time.monotonic() < deadline, f"{r.text}\n{far.log()[-3000:]}"
        time.sleep(0.2)
    here = near.post(PREDICT, json={"inputs": ROWS})
    assert here.status_code == 200
    assert r.json()["outputs"] == here.json()["outputs"]
    assert r.headers["x-bastion-model-version"] == str(v1)
    sha = near.get(f"/v1/admin/models/{MODEL}/versions/{v1}").json()["artifact_sha256"]
    assert list((far.data_dir / "artifacts").rglob(sha))  # fetched into its own disk
    with socket.socket() as s:  # and the host reaches it only at its namespace's address
        assert s.connect_ex(("127.0.0.1", far.port)) != 0
