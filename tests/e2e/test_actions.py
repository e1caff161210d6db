"""Durable actions through a real server: the answer implies the action (kill -9 between
them), a receiver outage loses nothing, reviewed decisions act on the reviewer's output."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bastion.actions.signing import WebhookVerifier
from tests.actions.receiver import Receiver
from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

SECRET = "whsec_e2e_" + "x" * 16
TOKEN = "crm-token-e2e"


def scorer(inputs: list[Any]) -> list[Any]:
    """The model: the label and confidence its input asks for."""
    return [
        {
            "output": {"label": item.get("label", "refund")},
            "confidence": float(item.get("confidence", 0.9)),
        }
        for item in inputs
    ]


def config(receiver: Receiver) -> dict[str, Any]:
    step = {
        "name": "ticket",
        "destination": "crm",
        "path": "/tickets",
        "body": {
            "customer": "{{ input.customer }}",
            "label": "{{ output.label }}",
            "decision": "{{ decision_id }}",
        },
    }
    return {
        "review": {"policies": [{"deployment": "scorer", "confidence_below": 0.5}]},
        "actions": {
            "callback_prefixes": [receiver.url + "/callbacks/"],
            "callback_secret": {"env": "HOOK_SECRET"},
            "dispatcher": {"poll_interval_s": 0.05, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
            "destinations": {
                "crm": {
                    "kind": "webhook",
                    "url": receiver.url,
                    "signing_secret": {"env": "HOOK_SECRET"},
                    "credential": {"env": "CRM_TOKEN"},
                    "breaker": {"min_calls": 1000},
                }
            },
            "deployments": {
                "scorer": [
                    {
                        "name": "route",
                        "when": 'output.label == "refund" and confidence >= 0.8',
                        "max_attempts": 100,
                        "steps": [step],
                    }
                ]
            },
        },
    }


@pytest.fixture(scope="module")
def shared_receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.close()


@pytest.fixture
def receiver(shared_receiver: Receiver) -> Receiver:
    shared_receiver.reset()
    return shared_receiver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_receiver: Receiver) -> Iterator[Server]:
    """One server for the module (its start dominates the run time); the last test kills it."""
    tmp_path = tmp_path_factory.mktemp("actions")
    receiver = shared_receiver
    path = tmp_path / "bastion.yaml"
    path.write_text(json.dumps(config(receiver)))
    server = make_server(
        tmp_path / "data",
        BASTION_DEMO="false",
        BASTION_CONFIG=str(path),
        HOOK_SECRET=SECRET,
        CRM_TOKEN=TOKEN,
    )
    server.start()
    try:
        entry = "tests.e2e.test_actions:scorer"  # shared: acme's keys use it too
        server.cli("models", "register", "scorer", "--entry-point", entry, "--shared")
        server.cli("models", "promote", "scorer", "1")
        deadline = time.monotonic() + 10
        while server.get("/v1/deployments/scorer").json().get("version") != 1:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


def predict(server: Server, n: int, **fields: Any) -> list[str]:
    ids = []
    for i in range(n):
        body = {"input": {"customer": f"c-{i}", **fields}}
        r = server.post("/v1/deployments/scorer/predict", json=body)
        assert r.status_code == 200, r.text
        ids.append(r.headers["x-request-id"])
    return ids


def cli(server: Server, *args: str) -> Any:
    return json.loads(server.cli("actions", *args, "--json", "--url", server.url).stdout)


def wait_for(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_receiver_outage_loses_nothing_and_every_attempt_is_shown(
    server: Server, receiver: Receiver
) -> None:
    receiver.down()
    ids = predict(server, 10)
    time.sleep(2.0)  # the outage: attempts fail and back off meanwhile
    receiver.start()
    wait_for(lambda: len(receiver.accepted) == 10)
    assert receiver.duplicates == 0
    retried = [a for a in cli(server, "list") if a["request_id"] == ids[0]]
    steps = cli(server, "show", retried[0]["id"])["steps"]
    outcomes = [t["outcome"] for t in steps[0]["attempts"]]
    assert outcomes[-1] == "ok" and "retry" in outcomes and steps[0]["state"] == "done"
    text = server.cli("actions", "show", retried[0]["id"], "--url", server.url).stdout
    assert "step 0 ticket: done" in text
    audit = server.get("/v1/admin/audit", params={"kind": "action", "limit": 1000}).json()["data"]
    assert any(r["details"]["action_id"] == retried[0]["id"] for r in audit)


def test_a_reviewed_decision_acts_on_the_reviewers_output(
    server: Server, receiver: Receiver
) -> None:
    [rid] = predict(server, 1, confidence=0.3, label="other")  # held for a human
    [rejected] = predict(server, 1, confidence=0.3)
    time.sleep(0.5)
    assert receiver.accepted == {}
    held = cli(server, "list", "--status", "held")
    assert {a["request_id"] for a in held} == {rid, rejected}
    items = server.get("/v1/review/items").json()["data"]
    by_request = {i["request_id"]: i["id"] for i in items}
    fix = {"action": "correct", "output": {"label": "refund"}, "reason": "it is a refund"}
    item = by_request[rid]
    assert server.post(f"/v1/review/items/{item}/claim").status_code == 200
    assert server.post(f"/v1/review/items/{item}/decide", json=fix).status_code == 200
    wait_for(lambda: len(receiver.accepted) == 1)
    assert json.loads(receiver.accepted[f"{rid}:0:route:ticket"]["body"])["label"] == "refund"
    item = by_request[rejected]
    server.post(f"/v1/review/items/{item}/claim")
    no = {"action": "reject", "reason": "not a refund"}
    assert server.post(f"/v1/review/items/{item}/decide", json=no).status_code == 200
    status = {a["request_id"]: a["status"] for a in cli(server, "list")}
    assert (status[rid], status[rejected]) == ("done", "dropped")


def _key(server: Server, name: str, roles: list[str], tenant: str) -> dict[str, str]:
    created = server.post("/v1/admin/keys", json={"name": name, "roles": roles, "tenant": tenant})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def test_actions_belong_to_their_tenant_and_a_refusal_changes_nothing(
    server: Server, receiver: Receiver
) -> None:
    acme_client = _key(server, "acme-app", ["client"], "acme")
    acme_ops = _key(server, "acme-ops", ["operator"], "acme")
    body = {"input": {"customer": "acme-1"}}
    r = server.post("/v1/deployments/scorer/predict", json=body, headers=acme_client)
    assert r.status_code == 200, r.text
    wait_for(lambda: len(receiver.accepted) == 1)
    mine = server.get("/v1/admin/actions", headers=acme_ops).json()["data"]
    assert [a["request_id"] for a in mine] == [r.headers["x-request-id"]]  # only acme's
    assert mine[0]["tenant"] == "acme"
    others = [a for a in cli(server, "list") if a["tenant"] != "acme"]
    assert others, "the admin sees every tenant's actions"
    hidden = server.get(f"/v1/admin/actions/{others[0]['id']}", headers=acme_ops)
    assert hidden.status_code == 404  # another tenant's action does not exist for acme
    assert (
        server.post(f"/v1/admin/actions/{others[0]['id']}/drop", headers=acme_ops).status_code
        == 404
    )
    done = mine[0]
    wait_for(lambda: server.get(f"/v1/admin/actions/{done['id']}").json()["status"] == "done")
    before = server.get(f"/v1/admin/actions/{done['id']}").json()
    refused = server.post(f"/v1/admin/actions/{done['id']}/retry", headers=acme_ops)
    assert refused.status_code == 409 and refused.json()["error"]["type"] == "conflict"
    assert server.get(f"/v1/admin/actions/{done['id']}").json() == before  # unchanged
    client_only = server.get("/v1/admin/actions", headers=acme_client)
    assert client_only.status_code == 403


def test_async_predict_answers_202_then_the_result_by_get_and_signed_callback(
    server: Server, receiver: Receiver
) -> None:
    body = {"input": {"customer": "later", "label": "other"}}
    callback = receiver.url + "/callbacks/1"
    r = server.post(
        "/v1/deployments/scorer/predict", params={"async": "true", "callback": callback}, json=body
    )
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    assert r.headers["location"] == f"/v1/predictions/{rid}"
    wait_for(lambda: server.get(f"/v1/predictions/{rid}").json()["status"] == "done")
    result = server.get(f"/v1/predictions/{rid}").json()["result"]
    assert (result["id"], result["output"], result["confidence"]) == (rid, {"label": "other"}, 0.9)
    wait_for(lambda: any(h.get("x-bastion-id") == rid for h in receiver.headers))
    i = next(i for i, h in enumerate(receiver.headers) if h.get("x-bastion-id") == rid)
    lowered = {k.lower(): v for k, v in receiver.headers[i].items()}
    assert WebhookVerifier(SECRET).verify(receiver.bodies[i], lowered) == rid
    assert json.loads(receiver.bodies[i]) == result
    outsider = _key(server, "other-app", ["client"], "globex")
    assert server.get(f"/v1/predictions/{rid}", headers=outsider).status_code == 404
    refused = server.post(
        "/v1/deployments/scorer/predict",
        params={"async": "true", "callback": "http://169.254.169.254/latest"},
        json=body,
        headers={**server.auth, "x-request-id": "not-allowed-1"},
    )
    assert refused.status_code == 422 and refused.json()["error"]["param"] == "callback"
    assert server.get("/v1/predictions/not-allowed-1").status_code == 404  # nothing recorded


def test_killed_between_answer_and_delivery_delivers_once_after_restart(
    server: Server, receiver: Receiver
) -> None:
    server.stop()
    server.env["BASTION_ACTIONS__DISPATCHER__ENABLED"] = "false"  # answer, never deliver
    server.start()
    ids = predict(server, 12)
    predict(server, 4, label="other")  # the condition does not hold: no action
    assert server.proc is not None
    server.proc.send_signal(signal.SIGKILL)  # every client has its answer; nothing was sent
    server.proc.wait(10)
    assert sum(receiver.deliveries.values()) == 0
    del server.env["BASTION_ACTIONS__DISPATCHER__ENABLED"]
    server.start()
    wait_for(lambda: len(receiver.accepted) == 12)
    time.sleep(0.5)  # anything delivered twice would arrive by now
    assert receiver.duplicates == 0 and max(receiver.deliveries.values()) == 1
    assert set(receiver.accepted) == {f"{rid}:0:route:ticket" for rid in ids}
    verifier = WebhookVerifier(SECRET)
    for headers in receiver.headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert lowered["authorization"] == f"Bearer {TOKEN}"
        body = receiver.accepted[lowered["idempotency-key"]]["body"].encode()
        assert verifier.verify(body, lowered) == lowered["idempotency-key"]
    first = receiver.accepted[f"{ids[0]}:0:route:ticket"]
    assert json.loads(first["body"]) == {
        "customer": "c-0",
        "label": "refund",
        "decision": f"{ids[0]}:0",
    }
    assert TOKEN not in server.log() and SECRET not in server.log()
    listed = [a for a in cli(server, "list") if a["request_id"] in ids]
    assert len(listed) == 12 and {a["status"] for a in listed} == {"done"}
