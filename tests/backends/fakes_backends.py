"""Fake models for the backend tests: python entry points and helpers for real tiny models."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import BaseEstimator, TransformerMixin

from bastion.backends.base import ModelSpec
from bastion.errors import InvalidRequest

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


@dataclass(frozen=True)
class Iris:
    x: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]
    onnx: Path
    regressor_onnx: Path
    skops: Path
    joblib: Path
    untrusted_skops: Path

    def rows(self, n: int) -> list[dict[str, float]]:
        picks = np.linspace(0, len(self.x) - 1, n).astype(int)
        return [dict(zip(IRIS_FEATURES, self.x[i].tolist(), strict=True)) for i in picks]

    def labels(self, n: int) -> list[str]:
        picks = np.linspace(0, len(self.x) - 1, n).astype(int)
        return [IRIS_CLASSES[self.y[i]] for i in picks]


def to_onnx(model: Any, width: int, zipmap: bool = False) -> bytes:
    steps = getattr(model, "steps", None)
    last = steps[-1][1] if steps else model
    options = {id(last): {"zipmap": zipmap}} if hasattr(last, "predict_proba") else None
    onx = convert_sklearn(
        model, initial_types=[("input", FloatTensorType([None, width]))], options=options
    )
    return bytes(onx.SerializeToString())


def make_spec(
    flavor: str,
    path: Path | None,
    *,
    signature: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    name: str = "m",
) -> ModelSpec:
    return ModelSpec(name, 1, flavor, path, dict(signature or {}), dict(params or {}))


def iris_signature() -> dict[str, Any]:
    return {"feature_names": IRIS_FEATURES, "classes": IRIS_CLASSES}


def double(inputs: list[Any]) -> list[Any]:
    return [x * 2 for x in inputs]


async def async_double(inputs: list[Any]) -> list[Any]:
    await asyncio.sleep(0)
    return [x * 2 for x in inputs]


def with_confidence(inputs: list[Any]) -> list[Any]:
    return [{"output": {"even": x % 2 == 0}, "confidence": 0.9} for x in inputs]


def numpy_out(inputs: list[Any]) -> Any:
    return np.asarray(inputs, dtype=np.float64) / 2


def wrong_length(inputs: list[Any]) -> list[Any]:
    return inputs[:-1]


def not_a_list(inputs: list[Any]) -> Any:
    return {"answer": 42}


def bad_confidence(inputs: list[Any]) -> list[Any]:
    return [{"output": x, "confidence": 7} for x in inputs]


def crash(inputs: list[Any]) -> list[Any]:
    raise RuntimeError("secret internals")


def refuse_negative(inputs: list[Any]) -> list[Any]:
    if any(x < 0 for x in inputs):
        raise InvalidRequest("negative numbers are not accepted")
    return inputs


class Scorer:
    """A class entry point: ``load`` once, then ``predict`` per batch."""

    def __init__(self) -> None:
        self.offset: int | None = None

    def load(self) -> None:
        self.offset = 100

    def predict(self, inputs: list[Any]) -> list[Any]:
        assert self.offset is not None, "load() must run before predict()"
        return [{"output": x + self.offset, "confidence": 0.5} for x in inputs]


class AsyncScorer:
    async def load(self) -> None:
        await asyncio.sleep(0)
        self.ready = True

    async def predict(self, inputs: list[Any]) -> list[Any]:
        assert self.ready
        return [len(str(x)) for x in inputs]


class NeedsArguments:
    def __init__(self, path: str) -> None:
        self.path = path

    def predict(self, inputs: list[Any]) -> list[Any]:
        return inputs


class Doubler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A custom scikit-learn step: skops cannot know it is safe, so it is untrusted."""

    def fit(self, x: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, x: Any) -> Any:
        return np.asarray(x) * 2


MODEL_SOURCE = """
from dataclasses import dataclass


@dataclass
class Reply:
    text: str


def predict(inputs):
    return [{"output": Reply(str(x)).text.upper(), "confidence": 1.0} for x in inputs]


class Model:
    def predict(self, inputs):
        return [len(x) for x in inputs]
"""
