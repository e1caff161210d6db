"""The ``text-classifier`` flavor: bundled-encoder embeddings into a linear ONNX head."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np

from bastion.backends.base import ModelSpec, Prediction, SharedResources, TextEncoder
from bastion.backends.embedding import check_texts
from bastion.backends.onnx_model import OnnxModel, map_onnx_errors
from bastion.backends.threads import VersionThreads
from bastion.errors import ConfigError, ModelNotReady


class TextClassifierBackend:
    """Strings → embeddings (shared bundled encoder) → the artifact's classifier head."""

    def __init__(self, spec: ModelSpec, resources: SharedResources) -> None:
        self._spec = spec
        self._resources = resources
        self._label = f"'{spec.name}' v{spec.version}"
        self._threads = VersionThreads(self._label)
        self._encoder: TextEncoder | None = None
        self._head: OnnxModel | None = None

    async def load(self) -> None:
        path = self._spec.artifact_path
        if path is None:
            raise ConfigError(f"model {self._label}: the text-classifier flavor needs a head file")
        classes = self._spec.signature.get("classes")
        with map_onnx_errors(self._label, loading=True):
            encoder = await asyncio.to_thread(self._resources.text_encoder)
        head = await asyncio.to_thread(OnnxModel, self._label, path, classes)
        if head.width is not None and head.width != encoder.dimensions:
            raise ConfigError(
                f"model {self._label}: the head takes {head.width} features but the encoder "
                f"gives {encoder.dimensions}"
            )
        if not head.classes:
            raise ConfigError(f"model {self._label}: the head is not a classifier")
        self._encoder, self._head = encoder, head

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if self._encoder is None or self._head is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        texts = check_texts(inputs)
        if not texts:
            return []
        # Encoding dominates; the head adds microseconds, so both run in one thread hop.
        return await self._threads.run(self._classify, self._encoder, self._head, texts)

    def _classify(
        self, encoder: TextEncoder, head: OnnxModel, texts: list[str]
    ) -> list[Prediction]:
        with map_onnx_errors(self._label):
            vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
        return head.predict(vectors)

    async def aclose(self) -> None:
        self._encoder = self._head = None
        self._threads.close()
