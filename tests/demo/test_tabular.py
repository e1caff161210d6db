"""The breast-cancer demo: trained, exported, described and served."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bastion.backends.resources import Resources
from bastion.demo import TrainedModel
from bastion.demo.tabular import feature_names, sample_inputs, train_breast_cancer
from tests.demo.helpers import serve


@pytest.fixture(scope="module")
def model(trained: dict[str, TrainedModel]) -> TrainedModel:
    return trained["breast-cancer"]


def test_metrics_and_record(model: TrainedModel) -> None:
    assert model.flavor == "onnx" and model.artifact_name == "model.onnx"
    assert model.metrics["accuracy"] > 0.9
    assert model.metrics["f1"] > 0.9 and model.metrics["roc_auc"] > 0.95
    assert model.params["seed"] == 42 and 0 < model.params["test_size"] < 1
    assert len(model.training_data_hash or "") == 64
    assert model.signature["classes"] == ["malignant", "benign"]
    names = model.signature["feature_names"]
    assert len(names) == 30 and names[0] == "mean_radius" and "worst_concave_points" in names


def test_training_is_reproducible(model: TrainedModel) -> None:
    again = train_breast_cancer()
    assert again.artifact == model.artifact and again.metrics == model.metrics
    assert again.training_data_hash == model.training_data_hash


def test_input_schema_is_tight(model: TrainedModel) -> None:
    schema = model.signature["input_schema"]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    row = sample_inputs(1)[0]
    assert validator.is_valid(row) and validator.is_valid(list(row.values()))
    assert not validator.is_valid({**row, "extra": 1.0})
    assert not validator.is_valid(list(row.values())[:29])
    missing = dict(row)
    del missing["mean_radius"]
    assert not validator.is_valid(missing)
    bad = {**row, "mean_radius": "big"}
    (error,) = validator.iter_errors(bad)
    assert list(error.absolute_path) == ["mean_radius"]


def test_sample_inputs() -> None:
    rows = sample_inputs(600)
    assert len(rows) == 600 and rows[0] == rows[569]
    assert list(rows[0]) == feature_names()
    assert sample_inputs(5) == rows[:5]


async def test_served_predictions_match_the_contract(
    model: TrainedModel, demo_resources: Resources, tmp_path: Path
) -> None:
    backend = await serve(model, demo_resources, tmp_path)
    rows = sample_inputs(100)
    predictions = await backend.infer(rows)
    output = Draft202012Validator(model.signature["output_schema"])
    assert all(output.is_valid(p.output) for p in predictions)
    assert {p.output["label"] for p in predictions} == {"malignant", "benign"}
    assert all(0.5 <= (p.confidence or 0) <= 1 for p in predictions)


def test_another_c_gives_another_version(model: TrainedModel) -> None:
    other = train_breast_cancer(c=0.05)
    assert other.params["C"] == 0.05 and other.artifact != model.artifact
    assert other.metrics["accuracy"] > 0.9
