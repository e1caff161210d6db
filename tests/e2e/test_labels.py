"""Labels are checked against the deployment's output contract, through the demo server: a
class the model cannot answer is refused (422, naming the allowed classes) and changes
nothing; a class it can answer is taken."""

from __future__ import annotations

import time

import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_a_label_outside_the_models_classes_is_refused_naming_them(demo_server: Server) -> None:
    answer = demo_server.post(
        "/v1/deployments/support-intent/predict",
        json={"input": "I want my money back for order 1234"},
    )
    assert answer.status_code == 200, answer.text
    request_id, predicted = answer.json()["id"], answer.json()["output"]
    predicted_label = predicted["label"] if isinstance(predicted, dict) else predicted
    accuracy = "/v1/admin/deployments/support-intent/accuracy"

    deadline = time.monotonic() + 15
    while True:  # the prediction log is written in the background
        refused = demo_server.post(
            "/v1/feedback", json={"request_id": request_id, "label": "no-such-intent"}
        )
        if refused.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    before = demo_server.get(accuracy).json()
    assert refused.status_code == 422, refused.text  # today: 201, and macro-F1 drops
    error = refused.json()["error"]
    assert error["param"] == "label" and "no-such-intent" in error["message"]
    assert predicted_label in error["details"]["allowed"]
    assert predicted_label in error["message"]
    assert demo_server.get(accuracy).json() == before  # the refusal recorded nothing

    taken = demo_server.post(
        "/v1/feedback", json={"request_id": request_id, "label": predicted_label}
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["correct"] is True
