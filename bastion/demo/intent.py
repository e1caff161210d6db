"""The text demo: customer-support intent, MiniLM embeddings into a logistic-regression head."""

from __future__ import annotations

import json
from importlib import resources as package_files
from typing import Any

import numpy as np

from bastion.backends.base import SharedResources
from bastion.demo.training import (
    TrainedModel,
    classifier_output_schema,
    export_classifier,
    onnx_probabilities,
    sha256_hex,
    text_schema,
)
from bastion.monitoring import build_profile
from bastion.monitoring.features import features_of

NAME = "support-intent"
DATA_FILE = "support_messages.jsonl"
SEED = 42
TEST_SIZE = 0.25
C = 10.0  # the embeddings are unit vectors: a weakly regularised head fits them best


def training_data() -> bytes:
    """The labelled messages exactly as shipped (their sha256 is the training-data hash)."""
    return (package_files.files("bastion.demo") / "data" / DATA_FILE).read_bytes()


def load_messages(raw: bytes) -> tuple[list[str], list[str]]:
    """``(texts, intents)`` from JSON lines of ``{"text": ..., "intent": ...}``."""
    rows = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    return [str(r["text"]) for r in rows], [str(r["intent"]) for r in rows]


def train_support_intent(resources: SharedResources) -> TrainedModel:
    """Embed the messages with the bundled encoder, fit the head, export it to ONNX."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    raw = training_data()
    texts, intents = load_messages(raw)
    classes = sorted(set(intents))
    y = np.array([classes.index(intent) for intent in intents])
    encoder = resources.text_encoder()
    x: np.ndarray[Any, Any] = np.asarray(encoder.encode(texts), dtype=np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    head = LogisticRegression(C=C, max_iter=2000)
    head.fit(x_train, y_train)
    artifact = export_classifier(head, encoder.dimensions, NAME)
    predicted = onnx_probabilities(artifact, x_test).argmax(axis=1)
    every = onnx_probabilities(artifact, x)
    profile = build_profile(  # every message, read as the live log reads a text input
        [features_of(text)[0] for text in texts],
        predictions=[classes[i] for i in every.argmax(axis=1)],
        confidences=every.max(axis=1).tolist(),
        embeddings=x,
    )
    metrics = {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(f1_score(y_test, predicted, average="macro")),
    }
    return TrainedModel(
        name=NAME,
        flavor="text-classifier",
        artifact=artifact,
        artifact_name="head.onnx",
        signature={
            "input_schema": text_schema(),
            "output_schema": classifier_output_schema(classes),
            "classes": classes,
        },
        metrics=metrics,
        params={
            "C": C,
            "seed": SEED,
            "test_size": TEST_SIZE,
            "examples": len(texts),
            "encoder": "all-MiniLM-L6-v2 (int8 ONNX, bundled)",
        },
        training_data_hash=sha256_hex(raw),
        description=(
            f"Customer-support intent ({len(classes)} intents) from {len(texts)} labelled "
            "messages: bundled MiniLM sentence embeddings into a logistic-regression head."
        ),
        profile=profile.to_json(),
    )
