"""The bundled demo models: tabular (ONNX), text classification and embeddings."""

from __future__ import annotations

from bastion.backends.base import SharedResources
from bastion.demo.intent import train_support_intent
from bastion.demo.minilm import minilm_model
from bastion.demo.tabular import sample_inputs, train_breast_cancer
from bastion.demo.training import TrainedModel

__all__ = [
    "TrainedModel",
    "demo_models",
    "minilm_model",
    "sample_inputs",
    "train_breast_cancer",
    "train_support_intent",
]


def demo_models(resources: SharedResources) -> list[TrainedModel]:
    """Train (seconds) and return every demo model, ready to register."""
    return [train_breast_cancer(), train_support_intent(resources), minilm_model()]
