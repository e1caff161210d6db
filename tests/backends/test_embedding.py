"""The embedding and text-classifier flavors, over the bundled encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bastion.backends.embedding import EmbeddingBackend
from bastion.backends.encoder import bundled_encoder_paths
from bastion.backends.resources import Resources
from bastion.backends.text_classifier import TextClassifierBackend
from bastion.errors import ConfigError, InvalidRequest
from tests.backends.fakes_backends import Iris, make_spec, to_onnx

WEATHER = [
    "it is raining again",
    "sunny and warm today",
    "a storm is coming tonight",
    "expect snow this weekend",
    "the forecast says fog",
    "strong winds and hail",
]
FOOD = [
    "this pasta is delicious",
    "I baked a chocolate cake",
    "the soup needs more salt",
    "we ordered sushi for dinner",
    "fresh bread from the oven",
    "a spicy curry recipe",
]


async def test_embedding_backend(resources: Resources) -> None:
    model, _ = bundled_encoder_paths()
    backend = EmbeddingBackend(make_spec("embedding", model), resources)
    await backend.load()
    texts = ["the cat sat", "a cat was sitting", "tax law"]
    predictions = await backend.infer(texts)
    assert len(predictions) == 3 and all(p.confidence is None for p in predictions)
    vectors = np.array([p.output["embedding"] for p in predictions])
    assert vectors.shape == (3, 384)
    assert all(type(x) is float for x in predictions[0].output["embedding"])
    expected = resources.text_encoder().encode(texts)
    assert np.allclose(vectors, expected, atol=1e-6)
    with pytest.raises(InvalidRequest, match=r"inputs\[0\]"):
        await backend.infer([{"text": "no"}])
    await backend.aclose()


@pytest.fixture(scope="module")
def head(resources: Resources, tmp_path_factory: pytest.TempPathFactory) -> Path:
    x = resources.text_encoder().encode(WEATHER + FOOD)
    y = np.array([0] * len(WEATHER) + [1] * len(FOOD))
    path = tmp_path_factory.mktemp("head") / "head.onnx"
    path.write_bytes(to_onnx(LogisticRegression(C=10).fit(x, y), 384))
    return path


async def test_text_classifier(resources: Resources, head: Path) -> None:
    spec = make_spec("text-classifier", head, signature={"classes": ["weather", "food"]})
    backend = TextClassifierBackend(spec, resources)
    await backend.load()
    predictions = await backend.infer(["heavy rain all day", "grilled cheese sandwich"])
    assert [p.output["label"] for p in predictions] == ["weather", "food"]
    assert all(p.confidence == p.output["probability"] > 0.5 for p in predictions)
    assert await backend.infer([]) == []


async def test_text_classifier_head_must_fit_the_encoder(resources: Resources, iris: Iris) -> None:
    backend = TextClassifierBackend(make_spec("text-classifier", iris.onnx), resources)
    with pytest.raises(ConfigError, match="takes 4 features but the encoder gives 384"):
        await backend.load()
