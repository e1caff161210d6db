"""Scores per slice and the largest slice gap of each metric."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.entities import EvalRow
from bastion.evaluation.scorers import build_scorers
from bastion.evaluation.scoring import score, score_slices, slice_gaps


def _rows(tags: list[dict[str, str]]) -> list[EvalRow]:
    return [EvalRow({"i": i}, None, t) for i, t in enumerate(tags)]


def test_slices_and_gaps() -> None:
    rows = _rows([{"lang": "en"}, {"lang": "en"}, {"lang": "fr"}, {"lang": "fr", "dev": "m"}])
    o = Observations(["a", "a", "a", "b"], ["a"] * 4, ["a"] * 4, [1.0, 1.0, 9.0, 9.0])
    scorers = build_scorers(["accuracy", "latency"], o.expected)
    assert score(scorers, o)["accuracy"] == 0.75
    slices = score_slices(scorers, o, rows)
    assert list(slices) == ["dev=m", "lang=en", "lang=fr"]
    assert slices["lang=fr"] == {
        "rows": 2,
        "metrics": {"accuracy": 0.5, "latency_p50_ms": 9.0, "latency_p95_ms": 9.0},
    }
    gaps = slice_gaps(slices)
    assert gaps["accuracy"] == {
        "gap": 0.5,
        "dimension": "lang",
        "best": "lang=en",
        "best_value": 1.0,
        "worst": "lang=fr",
        "worst_value": 0.5,
    }
    assert gaps["latency_p50_ms"]["best"] == "lang=en"  # lower latency is the better slice
    assert gaps["latency_p50_ms"]["worst"] == "lang=fr"


def test_untagged_rows_have_no_slices_and_no_gaps() -> None:
    o = Observations(["a"], ["a"], ["a"], [1.0])
    scorers = build_scorers(["accuracy"], o.expected)
    assert score_slices(scorers, o, _rows([{}])) == {}
    assert slice_gaps({}) == {}
    one = score_slices(scorers, o, _rows([{"lang": "en"}]))
    assert slice_gaps(one) == {}  # a single slice in a dimension has no gap


def test_a_scorer_error_names_the_slice() -> None:
    rows = _rows([{"lang": "en"}, {"lang": "fr"}])
    o = Observations([1, 2], [1, 2], [1, "x"], [1.0, 1.0])
    scorers = build_scorers(["mae"], o.expected)
    with pytest.raises(InvalidRequest, match="slice lang=fr: mae/rmse: row 1: expected 'x'"):
        score_slices(scorers, o, rows)
