"""The ``embedding`` flavor: a text encoder served as a model, one 384-d vector per string."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np

from bastion.backends.base import ModelSpec, Prediction, SharedResources, TextEncoder
from bastion.backends.onnx_model import map_onnx_errors
from bastion.backends.threads import VersionThreads
from bastion.errors import ConfigError, InvalidRequest, ModelNotReady


def check_texts(inputs: Sequence[Any]) -> list[str]:
    """The items as strings, or InvalidRequest naming the first one that is not."""
    for i, item in enumerate(inputs):
        if not isinstance(item, str):
            raise InvalidRequest(
                f"inputs[{i}]: expected a string, got {type(item).__name__}",
                details={"field": f"inputs[{i}]"},
            )
    return list(inputs)


class EmbeddingBackend:
    """Encodes texts with the encoder stored as the artifact (shared through ``resources``)."""

    def __init__(self, spec: ModelSpec, resources: SharedResources) -> None:
        self._spec = spec
        self._resources = resources
        self._label = f"'{spec.name}' v{spec.version}"
        self._threads = VersionThreads(self._label)
        self._encoder: TextEncoder | None = None

    async def load(self) -> None:
        path = self._spec.artifact_path
        if path is None:
            raise ConfigError(f"model {self._label}: the embedding flavor needs an encoder file")
        # SharedResources.text_encoder in base.py takes no path yet; Resources does (by path).
        get = self._resources.text_encoder
        with map_onnx_errors(self._label, loading=True):
            self._encoder = await asyncio.to_thread(get, path)

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        encoder = self._encoder
        if encoder is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        texts = check_texts(inputs)
        if not texts:
            return []
        with map_onnx_errors(self._label):
            vectors = await self._threads.run(encoder.encode, texts)
        return [Prediction({"embedding": row}) for row in np.asarray(vectors).tolist()]

    async def aclose(self) -> None:
        self._encoder = None  # the encoder itself belongs to the shared resources
        self._threads.close()
