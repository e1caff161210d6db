"""The support-intent demo: its data, its held-out quality and the served model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bastion.backends.resources import Resources
from bastion.demo import TrainedModel
from bastion.demo.intent import load_messages, training_data
from tests.demo.helpers import serve


@pytest.fixture(scope="module")
def model(trained: dict[str, TrainedModel]) -> TrainedModel:
    return trained["support-intent"]


def test_the_dataset() -> None:
    raw = training_data()
    assert all(set(json.loads(line)) == {"text", "intent"} for line in raw.splitlines())
    texts, intents = load_messages(raw)
    assert len(texts) >= 240 and len(set(texts)) == len(texts)
    counts = Counter(intents)
    assert 6 <= len(counts) <= 8 and min(counts.values()) >= 25
    assert all(0 < len(t) <= 2000 for t in texts)


def test_metrics_and_record(model: TrainedModel) -> None:
    assert model.flavor == "text-classifier"
    assert model.metrics["accuracy"] >= 0.85 and model.metrics["macro_f1"] >= 0.85
    assert model.signature["classes"] == sorted(set(load_messages(training_data())[1]))
    schema = model.signature["input_schema"]
    assert schema["type"] == "string" and schema["maxLength"] == 2000
    assert len(model.training_data_hash or "") == 64


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want my money back for the order that arrived broken", "refund_request"),
        ("where is my package? it was supposed to arrive monday", "order_status"),
        ("I can't log in, the password reset email never comes", "account_access"),
        ("please stop renewing my plan, I'm done", "cancel_subscription"),
        ("the app shows a blank screen after the update", "technical_issue"),
        ("why is there a second charge on my credit card statement", "billing_question"),
        ("send it to 12 High Street instead, I moved", "shipping_address_change"),
        ("is the kettle made of stainless steel?", "product_question"),
    ],
)
async def test_served_model_understands_new_messages(
    model: TrainedModel, demo_resources: Resources, tmp_path: Path, text: str, intent: str
) -> None:
    backend = await serve(model, demo_resources, tmp_path)
    (prediction,) = await backend.infer([text])
    assert prediction.output["label"] == intent
    assert Draft202012Validator(model.signature["output_schema"]).is_valid(prediction.output)
