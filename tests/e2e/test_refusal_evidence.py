"""Every refusal is evidence: 1,000 bad keys from one address are slowed down (429 with
Retry-After) and raise an alert; refusals are counted by reason and found in the audit log,
with the actor's key id and tenant when the key authenticated; a flood audits a bounded number
of records and counts the rest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.tenants import start, tenant

pytestmark = pytest.mark.e2e

LIMIT, AUDITED = 20, 50
CONFIG = {"security": {"refusals": {"max_failures": LIMIT, "audit_per_window": AUDITED}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    limit = {"BASTION_SECURITY__REFUSALS__MAX_FAILURES": str(LIMIT)}
    srv = start(tmp_path_factory.mktemp("refusals"), CONFIG, **limit)
    try:
        yield srv
    finally:
        srv.stop()


def _records(server: Any, **params: Any) -> list[dict[str, Any]]:
    r = server.get("/v1/admin/audit", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_refused_admin_actions_are_audited_with_key_and_tenant(server: Any) -> None:
    acme = tenant(server, "acme", ("operator", "client"))
    attempts = [
        ("POST", "/v1/admin/keys", {"name": "evil", "roles": ["admin"]}, "operator"),
        ("DELETE", f"/v1/admin/keys/{acme.ids['client']}", None, "operator"),
        ("GET", "/v1/admin/models", None, "client"),
    ]
    for method, path, body, role in attempts:
        r = httpx.request(method, server.url + path, json=body, headers=acme.auth(role))
        assert r.status_code == 403, r.text
    refused = _records(server, action="access.refused")
    for method, path, _, role in attempts:
        found = [a for a in refused if a["target"] == f"{method} {path}"]
        assert found, f"{method} {path} was not audited"
        assert found[0]["actor_key_id"] == acme.ids[role] and found[0]["tenant"] == "acme"
        assert found[0]["status"] == "refused" and found[0]["details"]["status"] == 403
    assert server.get(f"/v1/admin/keys/{acme.ids['client']}").json()["revoked_at"] is None


def test_a_thousand_bad_keys_are_slowed_down_and_alerted(server: Any) -> None:
    statuses: dict[int, int] = {}
    retry_after = None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(1000):
            r = client.get("/v1/admin/models", headers={"Authorization": f"Bearer bst_bad{i:06d}"})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 429 and retry_after is None:
                retry_after = int(r.headers["retry-after"])
    assert statuses == {401: LIMIT, 429: 1000 - LIMIT}, statuses
    assert retry_after is not None and 1 <= retry_after <= 60
    # a key that worked before is still let in from that address; an unknown one is not
    assert server.get("/v1/admin/models").status_code == 200
    missing = httpx.get(server.url + "/v1/admin/models", timeout=30)
    assert missing.status_code == 429
    alerts = server.get("/v1/admin/alerts").json()["data"]
    assert any(a["rule"] == "auth_failures" and "127.0.0.x" in a["summary"] for a in alerts)
    metrics = server.get("/metrics").text
    assert 'bastion_auth_failures_total{reason="invalid_key"}' in metrics
    assert 'bastion_auth_failures_total{reason="throttled"}' in metrics
    # the audit log holds a bounded number of these refusals, not a thousand
    failed = _records(server, action="auth.failed") + _records(server, action="auth.throttled")
    assert 1 <= len(failed) <= AUDITED
    assert failed[0]["details"]["network"] == "127.0.0.x"  # the network, not the host (PII)
