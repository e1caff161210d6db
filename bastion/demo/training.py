"""TrainedModel, and the export and schema helpers the demo training scripts share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from bastion.backends.onnx_model import new_session
from bastion.contracts.classifier import classifier_schema

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A model ready to register: its artifact bytes plus everything the registry records.

    ``training_data_hash`` is the sha256 of the canonical training data bytes, or ``None``
    for a model trained elsewhere (the bundled encoder). ``profile`` is the drift reference
    profile of the training data (``ReferenceProfile.to_json()``), stored beside the version.
    """

    name: str
    flavor: str
    artifact: bytes
    artifact_name: str
    signature: dict[str, Any]
    metrics: dict[str, float]
    params: dict[str, Any]
    training_data_hash: str | None
    description: str
    profile: str | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_classifier(model: Any, n_features: int, name: str) -> bytes:
    """A fitted scikit-learn classifier (or pipeline ending in one) as ONNX bytes.

    ZipMap is off, so the model answers with a ``label`` tensor and a ``probabilities`` matrix.
    The graph is named (skl2onnx would pick a random one), so the same fit gives the same bytes.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    steps = getattr(model, "steps", None)
    classifier = steps[-1][1] if steps else model
    onnx_model = convert_sklearn(
        model,
        name=name,
        initial_types=[("input", FloatTensorType([None, n_features]))],
        options={id(classifier): {"zipmap": False}},
    )
    return bytes(onnx_model.SerializeToString())


def onnx_probabilities(artifact: bytes, matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Run exported classifier bytes, so metrics measure the artifact that will be served."""
    session = new_session(artifact)
    (probabilities,) = session.run(["probabilities"], {"input": matrix.astype(np.float32)})
    return np.asarray(probabilities, dtype=np.float64)


def text_schema() -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA,
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TEXT_CHARS,
    }


def classifier_output_schema(classes: list[str]) -> dict[str, Any]:
    """One classifier answer: ``{label, class_id, probability, probabilities}``."""
    return {"$schema": JSON_SCHEMA, **classifier_schema(classes)}
