"""Humans in the loop through a real server: a low-confidence prediction is queued, two
reviewers race for it, one corrects it (CLI), the webhook fires, the export holds it."""

from __future__ import annotations

import concurrent.futures
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["spam", "ham"]}},
    "required": ["label"],
}


def lowconf(inputs: list[Any]) -> list[Any]:
    """The model under review: always "spam", as sure as the input says (default 0.3)."""
    return [
        {"output": {"label": "spam"}, "confidence": float(item.get("confidence", 0.3))}
        for item in inputs
    ]


class Hooks:
    """A local webhook receiver: records each POST and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Condition()

    def wait_for(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: any(b["type"] == kind for b in self.bodies), timeout)
            assert ok, f"no {kind} webhook; got {self.bodies}"
            return next(b for b in self.bodies if b["type"] == kind)


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    received = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(200)
            self.end_headers()
            with received.arrived:
                received.bodies.append(body)
                received.arrived.notify_all()

        def log_message(self, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, hooks: tuple[Hooks, str]) -> Iterator[Server]:
    config = tmp_path / "bastion.yaml"
    policy = {
        "deployment": "lowconf",
        "confidence_below": 0.5,
        "client_may_request": True,
        "webhook_url": hooks[1],
    }
    config.write_text(json.dumps({"review": {"webhook_backoff_s": 0.05, "policies": [policy]}}))
    server = make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_CONFIG=str(config))
    server.start()
    try:
        signature = tmp_path / "signature.json"
        signature.write_text(json.dumps({"output_schema": OUTPUT_SCHEMA}))
        entry = "tests.e2e.test_review:lowconf"
        server.cli(
            "models", "register", "lowconf", "--entry-point", entry, "--signature", str(signature)
        )
        server.cli("models", "promote", "lowconf", "1")
        deadline = time.monotonic() + 10
        while server.get("/v1/deployments/lowconf").json().get("version") != 1:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


def _key(server: Server, name: str, role: str, tenant: str = "default") -> dict[str, str]:
    body = {"name": name, "roles": [role], "tenant": tenant}
    created = server.post("/v1/admin/keys", json=body)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def test_low_confidence_is_reviewed_corrected_notified_and_exported(
    server: Server, hooks: tuple[Hooks, str], tmp_path: Path
) -> None:
    client = _key(server, "app", "client")
    alice, bob = _key(server, "alice", "reviewer"), _key(server, "bob", "reviewer")
    outsider = _key(server, "ann", "reviewer", tenant="acme")

    sure = server.post(
        "/v1/deployments/lowconf/predict", json={"input": {"confidence": 0.9}}, headers=client
    )
    assert sure.json()["output"] == {"label": "spam"} and "x-bastion-review" not in sure.headers
    unsure = server.post(
        "/v1/deployments/lowconf/predict", json={"input": {"text": "win!"}}, headers=client
    )
    assert unsure.status_code == 200, unsure.text
    assert unsure.headers["x-bastion-review"] == "pending"
    review_id = unsure.json()["output"]["review_id"]
    assert unsure.json()["output"]["status"] == "pending_review"
    assert unsure.json()["review"]["items"][0]["triggers"] == ["confidence"]
    assert (
        server.get(f"/v1/reviews/{review_id}", headers=client).json()["status"] == "pending_review"
    )

    # tenant isolation: another tenant's reviewer sees nothing of it
    assert server.get("/v1/review/items", headers=outsider).json()["data"] == []
    assert server.get(f"/v1/review/items/{review_id}", headers=outsider).status_code == 404
    assert server.get("/v1/review/items", headers=client).status_code == 403

    # two reviewers race for the item: exactly one gets the lease
    claim = f"/v1/review/items/{review_id}/claim"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda who: server.post(claim, headers=who), [alice, bob]))
    assert sorted(a.status_code for a in answers) == [200, 409]
    lost = next(a for a in answers if a.status_code == 409)
    assert lost.json()["error"]["type"] == "conflict"
    winner = alice if answers[0].status_code == 200 else bob
    loser = bob if winner is alice else alice
    item = answers[0 if winner is alice else 1].json()
    assert (item["input"], item["model_output"], item["confidence"]) == (
        {"text": "win!"},
        {"label": "spam"},
        0.3,
    )

    decide = f"/v1/review/items/{review_id}/decide"
    bad = server.post(
        decide,
        json={"action": "correct", "output": {"label": "eggs"}, "reason": "x"},
        headers=winner,
    )
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "output.label"
    stolen = server.post(decide, json={"action": "approve"}, headers=loser)
    assert stolen.status_code == 409

    # the winner corrects it from the CLI
    key_of = winner["Authorization"].removeprefix("Bearer ")
    cli = ("--url", server.url, "--key", key_of)
    done = server.cli(
        "review",
        "correct",
        review_id,
        "--output",
        '{"label": "ham"}',
        "--reason",
        "a greeting",
        *cli,
    )
    assert "corrected" in done.stdout

    sent = hooks[0].wait_for("review.corrected")
    assert (sent["review_id"], sent["final_output"], sent["reason"]) == (
        review_id,
        {"label": "ham"},
        "a greeting",
    )
    status = server.get(f"/v1/reviews/{review_id}", headers=client).json()
    assert (status["status"], status["output"]) == ("corrected", {"label": "ham"})

    out = tmp_path / "corrections.jsonl"
    server.cli("review", "export", "--format", "jsonl", "--out", str(out), *cli)
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["review_id"] == review_id and row["request_id"] == unsure.json()["id"]
    assert (row["input"], row["model_output"], row["model_confidence"]) == (
        {"text": "win!"},
        {"label": "spam"},
        0.3,
    )
    assert (row["final_output"], row["reason"], row["model_version"]) == (
        {"label": "ham"},
        "a greeting",
        1,
    )
    assert row["reviewer"] in ("alice", "bob") and row["decided_at"] >= row["queued_at"]

    parquet = server.get("/v1/review/export?format=parquet", headers=winner)
    assert parquet.status_code == 200
    [prow] = pq.read_table(io.BytesIO(parquet.content)).to_pylist()
    assert json.loads(prow["final_output"]) == {"label": "ham"}


def test_operators_override_clients_ask_for_review_and_the_cli_lists(
    server: Server, hooks: tuple[Hooks, str]
) -> None:
    asked = server.post(
        "/v1/deployments/lowconf/predict",
        json={"inputs": [{"confidence": 0.95}, {"confidence": 0.99}]},
        headers={**server.auth, "x-bastion-review": "request"},
    )
    assert asked.status_code == 200, asked.text
    outputs = asked.json()["outputs"]
    assert all(o["output"]["status"] == "pending_review" for o in outputs)
    listed = server.cli("review", "list", "--json", "--url", server.url, "--key", server.admin_key)
    queued = {i["id"]: i["triggers"] for i in json.loads(listed.stdout)}
    assert queued[outputs[1]["output"]["review_id"]] == ["client"]

    operator = _key(server, "olga", "operator")
    path = f"/v1/admin/predictions/{asked.json()['id']}/override"
    body = {"index": 1, "output": {"label": "ham"}, "reason": "customer escalation"}
    assert server.post(path, json=body, headers=_key(server, "rex", "reviewer")).status_code == 403
    done = server.post(path, json=body, headers=operator)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["decided_by"]) == ("overridden", "olga")
    assert hooks[0].wait_for("review.overridden")["final_output"] == {"label": "ham"}
    missing = server.post("/v1/admin/predictions/nope/override", json=body, headers=operator)
    assert missing.status_code == 404
