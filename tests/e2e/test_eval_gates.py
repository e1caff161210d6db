"""Eval-gated promotion through a real server: refused with the failing gates named, allowed
after a passing eval run and two approvals; overrides are admin-only and audited."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

MODEL = "breast-cancer"
PROMOTE = f"/v1/admin/models/{MODEL}/promote"
GATES = {
    MODEL: {
        "production": {
            "thresholds": [{"set": "bc-golden", "metric": "accuracy", "min": 0.9}],
            "approvals": 2,
        }
    }
}


def _golden_set(n: int = 80) -> str:
    """Real rows with their true labels, sliced by tumour size (JSONL)."""
    from sklearn.datasets import load_breast_cancer

    from bastion.demo.tabular import CLASSES, feature_names

    data = load_breast_cancer()
    names = feature_names()
    lines = []
    for row, target in list(zip(data.data.tolist(), data.target.tolist(), strict=True))[:n]:
        size = "large" if row[0] > 15 else "small"
        item = {"input": dict(zip(names, row, strict=True)), "expected": CLASSES[target]}
        lines.append(json.dumps({**item, "slices": {"size": size}}))
    return "\n".join(lines)


def _register_v2(server: Server) -> int:
    from bastion.demo.tabular import train_breast_cancer

    trained = train_breast_cancer(c=0.05)
    body = {
        "flavor": "onnx",
        "artifact_base64": base64.b64encode(trained.artifact).decode(),
        "artifact_name": "model.onnx",
        "signature": trained.signature,
    }
    r = server.post(f"/v1/admin/models/{MODEL}/versions", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def _key(server: Server, role: str, name: str) -> dict[str, str]:
    r = server.post("/v1/admin/keys", json={"name": name, "roles": [role]})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def _served(server: Server) -> int:
    from bastion.demo.tabular import sample_inputs

    r = server.post(f"/v1/deployments/{MODEL}/predict", json={"input": sample_inputs(1)[0]})
    assert r.status_code == 200, r.text
    return int(r.headers["x-bastion-model-version"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("eval-gates")
    config = folder / "bastion.yaml"
    config.write_text(yaml.safe_dump({"evaluation": {"gates": GATES}}))
    srv = make_server(folder / "data", BASTION_CONFIG=str(config))
    srv.start()
    yield srv
    srv.stop()


def test_gated_promotion_refused_then_allowed_and_overrides(server: Server) -> None:
    v2 = _register_v2(server)
    operator = _key(server, "operator", "ops")
    approvers = [_key(server, "approver", f"approver-{i}") for i in (1, 2)]

    # refused: no eval report on the set, no approvals — both gates named
    r = server.post(PROMOTE, json={"version": v2}, headers=operator)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["type"] == "promotion_gate_failed"
    assert "gate 'threshold' failed" in error["message"]
    assert "no eval set named 'bc-golden'" in error["message"]
    assert "gate 'approvals' failed: 0 of 2 approvals" in error["message"]
    assert [f["gate"] for f in error["details"]["failed"]] == ["threshold", "approvals"]
    alias_put = httpx.put(
        f"{server.url}/v1/admin/models/{MODEL}/aliases/production",
        json={"version": v2},
        headers=operator,
        timeout=30,
    )
    assert alias_put.status_code == 409  # the alias route is gated as well

    # a non-admin cannot override
    body = {"version": v2, "override": True, "reason": "trust me"}
    r = server.post(PROMOTE, json=body, headers=operator)
    assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden"

    # an eval set and a passing run on the server
    r = server.post(
        "/v1/admin/eval/sets",
        json={"name": "bc-golden", "content": _golden_set(), "description": "e2e"},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["version"] == 1 and r.json()["data"]["slices"] == ["size"]
    r = server.post(
        "/v1/admin/eval/runs", json={"model": f"{MODEL}@{v2}", "set": "bc-golden"}, headers=operator
    )
    assert r.status_code == 201, r.text
    report = r.json()["data"]
    assert report["metrics"]["accuracy"] >= 0.9
    assert set(report["slices"]) == {"size=large", "size=small"}
    assert "accuracy" in report["gaps"]
    listed = server.get("/v1/admin/eval/reports", params={"model": MODEL}, headers=approvers[0])
    assert listed.status_code == 200 and listed.json()["data"][0]["id"] == report["id"]

    # only the approvals gate is left
    r = server.post(PROMOTE, json={"version": v2}, headers=operator)
    assert r.status_code == 409
    assert [f["gate"] for f in r.json()["error"]["details"]["failed"]] == ["approvals"]

    approvals = f"/v1/admin/models/{MODEL}/versions/{v2}/approvals"
    assert server.post(approvals, json={"comment": "looks fine"}).status_code == 403  # admin
    first = server.post(approvals, json={"comment": "ok"}, headers=approvers[0])
    assert first.status_code == 201, first.text
    again = server.post(approvals, json={"comment": "again"}, headers=approvers[0])
    assert again.status_code == 409 and "already approved" in again.json()["error"]["message"]
    assert server.post(approvals, json={}, headers=approvers[1]).status_code == 201

    r = server.post(PROMOTE, json={"version": v2, "reason": "passed"}, headers=operator)
    assert r.status_code == 200, r.text
    assert _served(server) == v2

    # an admin overrides the gates for v1 (no report, no approvals): allowed and audited
    r = server.post(PROMOTE, json={"version": 1, "override": True})
    assert r.status_code == 422  # a reason is required
    r = server.post(PROMOTE, json={"version": 1, "override": True, "reason": "incident 42"})
    assert r.status_code == 200, r.text
    assert _served(server) == 1
    audit = server.get("/v1/admin/audit", params={"action": "model.promotion_overridden"})
    (record,) = audit.json()["data"]
    assert record["details"]["reason"] == "incident 42"
    assert {g["gate"] for g in record["details"]["failed_gates"]} == {"threshold", "approvals"}

    # rollback stays instant and ungated
    r = server.post(f"/v1/admin/models/{MODEL}/rollback", json={})
    assert r.status_code == 200 and r.json()["version"] == v2
