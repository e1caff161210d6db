"""The gate bypass of issue 24, replayed through a real server and refused at each step:
an operator rewrites the gate's eval set with the model's own answers, runs it, and asks
another tenant's approver to sign; the alias never moves. Then the legitimate path works."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.server import Server
from tests.e2e.tenants import jsonl, register, start, tenant

pytestmark = pytest.mark.e2e

MODEL = "acme-scorer"
GATES = {
    MODEL: {
        "production": {
            "thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.95}],
            "approvals": 1,
        }
    }
}
HONEST = jsonl(
    [{"input": {"say": "a"}, "expected": "b"}] * 3 + [{"input": {"say": "b"}, "expected": "b"}]
)
FORGED = jsonl(
    [{"input": {"say": "a"}, "expected": "a"}] * 3 + [{"input": {"say": "b"}, "expected": "b"}]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = start(tmp_path_factory.mktemp("sod"), {"evaluation": {"gates": GATES}})
    try:
        acme, beta = tenant(server, "acme"), tenant(server, "beta")
        yield server, acme, beta
    finally:
        server.stop()


def _production(server: Server) -> Any:
    return server.get(f"/v1/admin/models/{MODEL}").json()["aliases"].get("production")


def test_the_rewritten_set_and_a_foreign_approval_are_refused(world: Any) -> None:
    server, acme, beta = world
    op, ops = acme.auth("operator"), acme.ids["operator"]
    register(server, MODEL, "acme")
    r = server.post(f"/v1/admin/models/{MODEL}/promote", json={"version": 1}, headers=server.auth)
    assert r.status_code == 409  # even an admin without override passes the gates
    r = server.post("/v1/admin/eval/sets", json={"name": "golden", "content": HONEST}, headers=op)
    assert r.status_code == 201 and r.json()["data"]["tenant"] == "acme", r.text
    run = {"model": f"{MODEL}@1", "set": "golden"}
    assert server.post("/v1/admin/eval/runs", json=run, headers=op).status_code == 201
    promote = {"version": 1}
    r = server.post(f"/v1/admin/models/{MODEL}/promote", json=promote, headers=op)
    assert r.status_code == 409 and "golden@1" in r.text, r.text  # accuracy 0.25: pinned now
    r = server.post(
        f"/v1/admin/models/{MODEL}/promote",
        json={**promote, "override": True, "reason": "ship it"},
        headers=op,
    )
    assert r.status_code == 403  # only an admin overrides
    # step 1: the operator writes a new version of the gate's set with the model's answers
    r = server.post("/v1/admin/eval/sets", json={"name": "golden", "content": FORGED}, headers=op)
    assert r.status_code == 201 and r.json()["data"]["version"] == 2
    r = server.post("/v1/admin/eval/runs", json=run, headers=op)
    assert r.status_code == 201 and r.json()["data"]["metrics"]["accuracy"] == 1.0
    r = server.post(f"/v1/admin/models/{MODEL}/promote", json=promote, headers=op)
    assert r.status_code == 409 and "golden@1" in r.text  # the gate still reads golden@1
    # step 2: another tenant's approver signs the model and the forged set: neither exists for it
    for path in (
        f"/v1/admin/models/{MODEL}/versions/1/approvals",
        "/v1/admin/eval/sets/golden/versions/2/approvals",
    ):
        r = server.post(path, json={"comment": "sure"}, headers=beta.auth("approver"))
        assert r.status_code == 404, r.text
    # the operator cannot approve anything (no approver role); a second person of its own
    # tenant approving the new set is the legitimate path (next test)
    r = server.post("/v1/admin/eval/sets/golden/versions/2/approvals", json={}, headers=op)
    assert r.status_code == 403
    r = server.post(f"/v1/admin/models/{MODEL}/promote", json=promote, headers=op)
    assert r.status_code == 409
    assert _production(server) is None  # nothing moved, at any step
    approvals = server.get(f"/v1/admin/models/{MODEL}/versions/1/approvals").json()["data"]
    assert approvals == []
    # the refusals are evidence: the forbidden override is in the audit log with its key
    audit = server.get("/v1/admin/audit", params={"limit": 500}).json()["data"]
    refused = [a for a in audit if a.get("status") == "refused" and a.get("actor_key_id") == ops]
    assert refused, "the operator's refused promotions are audited with its key id"


def test_separation_on_the_legitimate_path(world: Any) -> None:
    server, acme, _beta = world
    op, approver = acme.auth("operator"), acme.auth("approver")
    if _production(server) is not None:
        pytest.skip("the first test did not leave the model unpromoted")
    # an approver of acme (not the set's author) approves golden@2: the gate moves to it
    r = server.post("/v1/admin/eval/sets/golden/versions/2/approvals", json={}, headers=approver)
    assert r.status_code == 201, r.text
    # the model needs its own approval; the approver's counts, then the move passes
    r = server.post(f"/v1/admin/models/{MODEL}/versions/1/approvals", json={}, headers=approver)
    assert r.status_code == 201
    r = server.post(f"/v1/admin/models/{MODEL}/promote", json={"version": 1}, headers=op)
    # the approver wrote nothing, requested nothing: its approval counts; golden@2's report
    # exists (accuracy 1.0), so the gate passes — an approver signed the new set knowingly
    assert r.status_code == 200, r.text
    assert _production(server) == 1


def test_a_shared_model_needs_a_global_approver(world: Any) -> None:
    server, _acme, beta = world
    register(server, "everyone", None)
    r = server.post(
        "/v1/admin/models/everyone/versions/1/approvals", json={}, headers=beta.auth("approver")
    )
    assert r.status_code == 403 and "global approvers" in r.text
    r = server.post(
        "/v1/admin/models/everyone/promote", json={"version": 1}, headers=beta.auth("operator")
    )
    assert r.status_code == 403 and "shared" in r.text
    assert server.get("/v1/admin/models/everyone").json()["aliases"] == {}


def test_a_key_cannot_approve_what_it_registered(world: Any) -> None:
    server, _acme, _ = world
    # an admin key that also holds the approver role registers a version, then approves it
    r = server.post(
        "/v1/admin/keys", json={"name": "both", "roles": ["admin", "approver"], "tenant": "acme"}
    )
    both = {"Authorization": f"Bearer {r.json()['key']}"}
    body = {"flavor": "python", "params": {"entry_point": "tests.evaluation.models:say"}}
    r = server.post(f"/v1/admin/models/{MODEL}/versions", json=body, headers=both)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    r = server.post(f"/v1/admin/models/{MODEL}/versions/{version}/approvals", json={}, headers=both)
    assert r.status_code == 403 and "registered" in r.text
