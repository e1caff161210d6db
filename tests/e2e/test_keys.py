"""Keys from the CLI: clients reach only their deployments and never the admin API."""

from __future__ import annotations

import pytest

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def _secret(server: Server, *args: str) -> str:
    out = server.cli("keys", "create", *args).stdout
    return out.strip().splitlines()[-1].strip()


def test_client_keys_and_revocation(demo_server: Server) -> None:
    secret = _secret(
        demo_server, "--name", "app", "--role", "client", "--deployment", "support-intent"
    )
    auth = {"Authorization": f"Bearer {secret}"}
    ok = demo_server.post(
        "/v1/deployments/support-intent/predict", json={"input": "refund"}, headers=auth
    )
    assert ok.status_code == 200, ok.text
    other = demo_server.post(
        "/v1/deployments/breast-cancer/predict", json={"input": sample_inputs(1)[0]}, headers=auth
    )
    assert other.status_code == 403 and other.json()["error"]["type"] == "forbidden"
    admin = demo_server.get("/v1/admin/models", headers=auth)
    assert admin.status_code == 403

    key_id = next(
        line.split()[1]
        for line in demo_server.cli(
            "keys", "create", "--name", "tmp", "--role", "client"
        ).stdout.splitlines()
        if line.startswith("created")
    )
    listed = demo_server.get("/v1/admin/keys").json()["data"]
    assert key_id in {k["id"] for k in listed}
    assert all("key_hash" not in k for k in listed)


def test_admin_api_creates_and_revokes_keys(demo_server: Server) -> None:
    import httpx

    r = demo_server.post("/v1/admin/keys", json={"name": "svc", "roles": ["client"]})
    assert r.status_code == 201, r.text
    secret, key_id = r.json()["key"], r.json()["data"]["id"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert demo_server.get("/v1/deployments", headers=auth).status_code == 200
    d = httpx.delete(
        f"{demo_server.url}/v1/admin/keys/{key_id}", headers=demo_server.auth, timeout=10
    )
    assert d.status_code == 200
    assert demo_server.get("/v1/deployments", headers=auth).status_code == 401
    bad = demo_server.post("/v1/admin/keys", json={"name": "x", "roles": ["emperor"]})
    assert bad.status_code == 422 and bad.json()["error"]["type"] == "invalid_request"
