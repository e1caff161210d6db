"""The tabular demo: breast-cancer diagnosis, a scaled logistic regression served as ONNX."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from bastion.demo.training import (
    JSON_SCHEMA,
    TrainedModel,
    classifier_output_schema,
    export_classifier,
    onnx_probabilities,
    sha256_hex,
)
from bastion.monitoring import build_profile

NAME = "breast-cancer"
CLASSES = ["malignant", "benign"]  # scikit-learn's target 0 and 1
SEED = 42
TEST_SIZE = 0.25
C = 1.0


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _dataset() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[str]]:
    """scikit-learn's bundled copy (no download): 569 rows, 30 features, snake_case names."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data, data.target, [_snake(str(n)) for n in data.feature_names]


def feature_names() -> list[str]:
    return _dataset()[2]


def input_schema(names: list[str]) -> dict[str, Any]:
    """One item: an object of all the named features, or an array of them in order.

    A type union rather than ``oneOf``: ``properties`` only constrains objects and ``items``
    only arrays, and the validator can then name the offending field instead of reporting
    that neither branch matched.
    """
    number = {"type": "number"}
    return {
        "$schema": JSON_SCHEMA,
        "type": ["object", "array"],
        "properties": {name: number for name in names},
        "required": names,
        "additionalProperties": False,
        "items": number,
        "minItems": len(names),
        "maxItems": len(names),
    }


def sample_inputs(n: int) -> list[dict[str, float]]:
    """``n`` real rows keyed by feature name, in a fixed shuffled order (both classes)."""
    x, _, names = _dataset()
    order = np.random.default_rng(SEED).permutation(len(x))
    return [dict(zip(names, x[order[i % len(x)]].tolist(), strict=True)) for i in range(n)]


def train_breast_cancer(*, c: float = C) -> TrainedModel:
    """Fit StandardScaler + LogisticRegression (inverse regularisation ``c``) on a stratified
    split; export it to ONNX. Another ``c`` gives another version to register."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, names = _dataset()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
    model.fit(x_train, y_train)
    artifact = export_classifier(model, len(names), NAME)
    proba = onnx_probabilities(artifact, x_test)
    predicted = proba.argmax(axis=1)
    metrics = {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1": float(f1_score(y_test, predicted)),
        "roc_auc": float(roc_auc_score(y_test, proba[:, 1])),
    }
    canonical = x.astype("<f8").tobytes() + y.astype("<i8").tobytes()
    train_proba = onnx_probabilities(artifact, x_train)
    profile = build_profile(  # what the served model saw when it was trusted: its training rows
        [dict(zip(names, row, strict=True)) for row in x_train.tolist()],
        predictions=[CLASSES[i] for i in train_proba.argmax(axis=1)],
        confidences=train_proba.max(axis=1).tolist(),
    )
    return TrainedModel(
        name=NAME,
        flavor="onnx",
        artifact=artifact,
        artifact_name="model.onnx",
        signature={
            "input_schema": input_schema(names),
            "output_schema": classifier_output_schema(CLASSES),
            "feature_names": names,
            "classes": CLASSES,
        },
        metrics=metrics,
        params={"C": c, "seed": SEED, "test_size": TEST_SIZE, "model": "StandardScaler+LogReg"},
        training_data_hash=sha256_hex(canonical),
        description=(
            "Breast-cancer diagnosis (Wisconsin dataset bundled with scikit-learn): 30 cell "
            "measurements → malignant or benign. Scaled logistic regression, served as ONNX."
        ),
        profile=profile.to_json(),
    )
