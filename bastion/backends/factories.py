"""Flavor name → backend factory: the explicit mapping ``create_backend`` chooses from."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bastion.backends.base import Backend, BackendFactory, ModelSpec, SharedResources
from bastion.backends.embedding import EmbeddingBackend
from bastion.backends.onnx_model import OnnxBackend
from bastion.backends.python_fn import PythonBackend
from bastion.backends.sklearn_model import SklearnBackend
from bastion.backends.text_classifier import TextClassifierBackend
from bastion.errors import ConfigError, InvalidRequest

FACTORIES: Mapping[str, BackendFactory] = MappingProxyType(
    {
        "onnx": OnnxBackend,
        "sklearn": SklearnBackend,
        "python": PythonBackend,
        "embedding": EmbeddingBackend,
        "text-classifier": TextClassifierBackend,
    }
)


def create_backend(spec: ModelSpec, resources: SharedResources) -> Backend:
    """A not-yet-loaded backend for ``spec.flavor``; ``await backend.load()`` before use."""
    factory = FACTORIES.get(spec.flavor)
    if factory is None:
        known = ", ".join(sorted(FACTORIES))
        raise ConfigError(
            f"model '{spec.name}' v{spec.version} has unknown flavor {spec.flavor!r}; "
            f"known flavors: {known}"
        )
    return factory(spec, resources)


def check_flavor(flavor: str) -> str:
    """``flavor`` if a backend serves it; else ``InvalidRequest`` naming the known ones, so
    that no version is registered that no server could ever load."""
    if flavor not in FACTORIES:
        known = ", ".join(sorted(FACTORIES))
        raise InvalidRequest(
            f"flavor: unknown flavor {flavor!r}; known flavors: {known}",
            details={"field": "flavor"},
        )
    return flavor
