"""The Backend seam: what every model runtime (ONNX, sklearn, Python, embeddings, LLM) offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Prediction:
    """One model output for one input.

    ``output`` is JSON-serialisable; ``confidence`` (0..1) is set by classifiers and read by
    the review/decide stage; ``cost`` is the model's declared cost for this one prediction.
    """

    output: Any
    confidence: float | None = None
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything a backend needs to load one model version, independent of the registry.

    ``signature`` holds ``input_schema`` / ``output_schema`` (JSON Schema for ONE item) and
    flavor-specific keys such as ``feature_names`` and ``classes``.
    """

    name: str
    version: int
    flavor: str
    artifact_path: Path | None
    signature: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A loaded model. ``infer`` takes a batch of already-validated inputs, one per item."""

    async def load(self) -> None: ...

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]: ...

    async def aclose(self) -> None: ...


class SharedResources(Protocol):
    """Heavy objects shared by many backends in one process (e.g. the bundled encoder)."""

    def text_encoder(self, model_path: Path | None = None) -> TextEncoder: ...


class TextEncoder(Protocol):
    """Turns texts into L2-normalised embedding rows (a float32 matrix, one row per text)."""

    dimensions: int

    def encode(self, texts: Sequence[str]) -> Any: ...


class BackendFactory(Protocol):
    def __call__(self, spec: ModelSpec, resources: SharedResources) -> Backend: ...
