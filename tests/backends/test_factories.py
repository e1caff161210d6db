"""Choosing a backend by flavor name."""

from __future__ import annotations

import pytest

import bastion.backends as backends
from bastion.backends import FACTORIES, create_backend
from bastion.backends.resources import Resources
from bastion.errors import ConfigError
from tests.backends.fakes_backends import Iris, iris_signature, make_spec


def test_every_flavor_is_named() -> None:
    assert set(FACTORIES) == {"onnx", "sklearn", "python", "embedding", "text-classifier"}
    assert set(backends.__all__) <= set(dir(backends))


def test_unknown_flavor_lists_the_known_ones(resources: Resources) -> None:
    with pytest.raises(ConfigError) as caught:
        create_backend(make_spec("tensorflow", None, name="mystery"), resources)
    message = caught.value.message
    assert "'tensorflow'" in message and "mystery" in message
    assert "embedding, onnx, python, sklearn, text-classifier" in message


async def test_create_then_load(iris: Iris, resources: Resources) -> None:
    backend = create_backend(make_spec("onnx", iris.onnx, signature=iris_signature()), resources)
    assert type(backend).__name__ == "OnnxBackend"
    await backend.load()
    (prediction,) = await backend.infer([iris.rows(1)[0]])
    assert prediction.output["label"] == "setosa"
    await backend.aclose()
