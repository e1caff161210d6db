"""Correcting the support-intent classifier with just the label, through the API and the CLI:
the review service completes class id and a one-hot distribution (a person's, not a model's)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

CLASSES = [
    "account_access",
    "billing_question",
    "cancel_subscription",
    "order_status",
    "product_question",
    "refund_request",
    "shipping_address_change",
    "technical_issue",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("completion")
    config = root / "bastion.yaml"
    policy = {"deployment": "support-intent", "client_may_request": True, "fallback": "model"}
    config.write_text(json.dumps({"review": {"policies": [policy]}}))
    server = make_server(root / "data", BASTION_CONFIG=str(config))
    server.start()
    yield server
    server.stop()


def _queued(server: Server, text: str) -> str:
    headers = {**server.auth, "x-bastion-review": "request"}
    done = server.post(
        "/v1/deployments/support-intent/predict", json={"input": text}, headers=headers
    )
    assert done.status_code == 200, done.text
    return str(done.json()["review"]["items"][0]["review_id"])


def _one_hot(label: str) -> dict[str, object]:
    probabilities = {c: 1.0 if c == label else 0.0 for c in CLASSES}
    return {
        "label": label,
        "class_id": CLASSES.index(label),
        "probability": 1.0,
        "probabilities": probabilities,
    }


def test_the_api_completes_a_label_only_correction(server: Server) -> None:
    item = _queued(server, "I was charged twice this month")
    wrong = server.post(
        f"/v1/review/items/{item}/decide",
        json={"action": "correct", "output": {"label": "no_such_intent"}, "reason": "x"},
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["param"] == "output.label"
    assert server.get(f"/v1/review/items/{item}").json()["status"] == "pending"

    done = server.post(
        f"/v1/review/items/{item}/decide",
        json={"action": "correct", "output": {"label": "billing_question"}, "reason": "billing"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["final_output"] == _one_hot("billing_question")
    assert done.json()["completed_fields"] == ["class_id", "probability", "probabilities"]
    shown = server.get(f"/v1/review/items/{item}").json()
    corrected = [e for e in shown["history"] if e["action"] == "corrected"]
    assert corrected[0]["details"]["output_source"] == "human"


def test_the_cli_corrects_with_the_label_alone(server: Server) -> None:
    item = _queued(server, "please cancel my plan")
    done = server.cli(
        "review",
        "correct",
        item,
        "--output",
        "cancel_subscription",
        "--reason",
        "cancel",
        "--url",
        server.url,
    )
    assert done.returncode == 0, done.stderr
    assert server.get(f"/v1/reviews/{item}").json()["output"] == _one_hot("cancel_subscription")
