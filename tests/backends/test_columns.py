"""Classifier answers as columns: each row the same output, text and audit bytes as the rows."""

from __future__ import annotations

import hashlib

import numpy as np
import orjson
import pytest

from bastion.backends.columns import ClassifierColumns
from bastion.backends.onnx_model import classifier_predictions
from bastion.core.columns import FeatureRows
from bastion.errors import ModelOutputInvalid


@pytest.mark.parametrize("k", [2, 3, 7])
def test_column_outputs_are_the_row_paths_json_text(k: int) -> None:
    rng = np.random.default_rng(k)
    p = rng.random((3000, k)) ** rng.integers(1, 40, (3000, 1))  # tiny values: exponents
    p[::5] *= 1e-9
    p[1] = [1.0] + [0.0] * (k - 1)
    p[2] = [0.5] * k  # a tie: the first class wins, as max() over the row does
    p[3, 0] = 1.0000001  # float rounding above 1: clipped
    classes = [f'c{i} "é"' for i in range(k)]  # labels that need escaping in JSON
    columns = ClassifierColumns(p, classes)
    expected = classifier_predictions(p, classes)
    assert columns.items() == expected
    assert columns.json_outputs().to_pylist() == [orjson.dumps(e.output).decode() for e in expected]
    assert columns.probability.tolist() == [e.confidence for e in expected]
    assert columns.canonical() == ClassifierColumns(p.copy(), classes).canonical()


def test_a_wrong_shape_is_the_models_fault() -> None:
    with pytest.raises(ModelOutputInvalid):
        ClassifierColumns(np.zeros((4, 3)), ["a", "b"])


def test_feature_rows_read_as_the_dicts_of_the_row_path() -> None:
    matrix = np.array([[1.0, 2.5], [3.0, -4.0]])
    rows = FeatureRows(["a", "b"], matrix)
    assert list(rows) == [{"a": 1.0, "b": 2.5}, {"a": 3.0, "b": -4.0}]
    assert rows[1] == {"a": 3.0, "b": -4.0} and len(rows) == 2
    assert rows.rows(1, 2).matrix.tolist() == [[3.0, -4.0]]
    assert rows.canonical() == FeatureRows(["a", "b"], matrix.copy()).canonical()
    assert rows.canonical() != FeatureRows(["b", "a"], matrix).canonical()


def test_rows_read_from_a_stored_file_cite_it_and_their_positions() -> None:
    rows = FeatureRows(["a", "b"], np.zeros((6, 2)))
    doc = orjson.loads(rows.cite("f" * 64, np.array([3, 4, 5, 9, 12, 13])))
    assert doc == {
        "columns": ["a", "b"],
        "dtype": "float64-le",
        "input_sha256": "f" * 64,
        "rows": [[3, 6], [9, 10], [12, 14]],
        "shape": [6, 2],
    }
    assert rows.canonical() == rows.cite("f" * 64, np.array([3, 4, 5, 9, 12, 13]))  # kept
    one = FeatureRows(["a", "b"], np.zeros((1, 2)))
    assert orjson.loads(one.cite("0" * 64, np.array([7])))["rows"] == [[7, 8]]


def test_the_audit_digest_is_the_sha256_of_the_probability_bytes() -> None:
    p = np.array([[0.25, 0.75], [1.0000001, 0.0]])
    doc = orjson.loads(ClassifierColumns(p, ["a", "b"]).canonical())
    clipped = np.clip(p, 0.0, 1.0).astype("<f8")  # the values of the typed output columns
    assert doc == {
        "classes": ["a", "b"],
        "dtype": "float64-le",
        "shape": [2, 2],
        "sha256": hashlib.sha256(clipped.tobytes()).hexdigest(),
    }
    other = ClassifierColumns(np.array([[0.25, 0.75], [0.0, 1.0]]), ["a", "b"])
    assert other.canonical() != ClassifierColumns(p, ["a", "b"]).canonical()
