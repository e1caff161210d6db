"""Model runtimes behind one seam: the Backend protocol, its flavors and shared resources."""

from bastion.backends.base import (
    Backend,
    BackendFactory,
    ModelSpec,
    Prediction,
    SharedResources,
    TextEncoder,
)
from bastion.backends.embedding import EmbeddingBackend
from bastion.backends.encoder import MiniLMEncoder, bundled_encoder_paths
from bastion.backends.factories import FACTORIES, create_backend
from bastion.backends.onnx_model import OnnxBackend
from bastion.backends.python_fn import PythonBackend
from bastion.backends.resources import Resources
from bastion.backends.sklearn_model import SklearnBackend
from bastion.backends.text_classifier import TextClassifierBackend

__all__ = [
    "FACTORIES",
    "Backend",
    "BackendFactory",
    "EmbeddingBackend",
    "MiniLMEncoder",
    "ModelSpec",
    "OnnxBackend",
    "Prediction",
    "PythonBackend",
    "Resources",
    "SharedResources",
    "SklearnBackend",
    "TextClassifierBackend",
    "TextEncoder",
    "bundled_encoder_paths",
    "create_backend",
]
