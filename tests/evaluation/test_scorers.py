"""Scorers on hand-made observations: the figures, the edge cases, the error messages."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.outputs import label, scored_value
from bastion.evaluation.scorers import build_scorers, default_specs, lower_is_better

M = "tests.evaluation.models"


def obs(values: list[Any], expected: list[Any], raw: list[Any] | None = None) -> Observations:
    return Observations(values, raw or values, expected, [float(i + 1) for i in range(len(values))])


def metrics(spec: str, o: Observations, **kw: Any) -> dict[str, float]:
    (scorer,) = build_scorers([spec], o.expected, **kw)
    return scorer.score(o)


def test_accuracy_compares_labels_canonically() -> None:
    o = obs(["a", 1, 2.0, "b"], ["a", "1", 2, "c"])
    assert metrics("accuracy", o) == {"accuracy": 0.75}
    assert (
        label(1.0) == "1" and label(True) == "true" and label({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    )


def test_precision_recall_f1_per_class_and_macro() -> None:
    o = obs(["a", "a", "b", "b", "a"], ["a", "b", "b", "b", "a"])
    m = metrics("f1", o)
    assert m["precision[a]"] == pytest.approx(2 / 3) and m["recall[a]"] == 1.0
    assert m["precision[b]"] == 1.0 and m["recall[b]"] == pytest.approx(2 / 3)
    assert m["f1[a]"] == pytest.approx(0.8) and m["f1_macro"] == pytest.approx(0.8)
    assert m["precision_macro"] == pytest.approx((2 / 3 + 1) / 2)
    assert metrics("precision", o) == m  # precision, recall and f1 are one scorer


def test_single_class_all_right_and_a_class_never_predicted() -> None:
    assert metrics("f1", obs(["a", "a"], ["a", "a"]))["f1_macro"] == 1.0
    m = metrics("f1", obs(["a", "a"], ["a", "b"]))
    assert m["precision[b]"] == 0.0 and m["recall[b]"] == 0.0 and m["f1[b]"] == 0.0
    assert m["f1_macro"] == pytest.approx((2 / 3) / 2)


def test_exact_match_normalises_whitespace_not_case() -> None:
    o = obs([" Paris  is big ", "paris", {"a": [1, 2]}], ["Paris is big", "Paris", {"a": [1, 2]}])
    assert metrics("exact_match", o) == {"exact_match": pytest.approx(2 / 3)}


def test_regex_from_expected_or_configured() -> None:
    assert metrics("regex", obs(["order 123", "none"], [r"\d+", r"\d+"])) == {"regex_match": 0.5}
    fixed = metrics("regex:^[A-Z]", obs(["Yes", "no", "Maybe"], [None, None, None]))
    assert fixed == {"regex_match": pytest.approx(2 / 3)}
    with pytest.raises(InvalidRequest, match=r"row 2.s expected value.*not a valid pattern"):
        metrics("regex", obs(["a", "b"], ["a", "("]))
    with pytest.raises(InvalidRequest, match="configured pattern"):
        build_scorers(["regex:("], [])[0].score(obs(["a"], [None]))


def test_json_schema_against_the_model_schema_or_a_given_one() -> None:
    schema = {"type": "object", "required": ["label"]}
    raw = [{"label": "a"}, {"score": 1}, {"label": "b"}, "text"]
    o = obs(raw, [None] * 4, raw)
    assert metrics("json_schema", o, output_schema=schema) == {"json_schema_valid": 0.5}
    given = metrics('json_schema:{"type": "string"}', o)
    assert given == {"json_schema_valid": 0.25}
    with pytest.raises(InvalidRequest, match="declares no output_schema"):
        metrics("json_schema", o)
    with pytest.raises(InvalidRequest, match="not a valid JSON Schema"):
        metrics('json_schema:{"type": 5}', o)
    with pytest.raises(InvalidRequest, match="not JSON"):
        metrics("json_schema:{nope", o)


def test_mae_and_rmse() -> None:
    m = metrics("mae", obs([1.0, "3", 5], [2, 1, 5.0]))
    assert m == {"mae": 1.0, "rmse": pytest.approx((5 / 3) ** 0.5)}
    with pytest.raises(InvalidRequest, match="row 2: the model's output 'x' is not a number"):
        metrics("rmse", obs([1, "x"], [1, 2]))
    with pytest.raises(InvalidRequest, match="row 1: expected 'y' is not a number"):
        metrics("mae", obs([1], ["y"]))


def test_latency_quantiles() -> None:
    o = Observations(["a"] * 20, ["a"] * 20, ["a"] * 20, [float(i) for i in range(1, 21)])
    assert metrics("latency", o) == {"latency_p50_ms": 10.0, "latency_p95_ms": 19.0}


def test_custom_scorers_float_and_dict() -> None:
    o = obs(["a", "b", "a", "a"], ["a", "b", "b", "a"])
    assert metrics(f"custom:{M}:share_of_a", o) == {"share_of_a": 0.75}
    assert metrics(f"custom:{M}:two_metrics", o) == {"rows": 4.0, "same": 0.0}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nocolon", "name it as module:function"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz': ModuleNotFoundError"),
        (f"{M}:missing", "has no 'missing'"),
        (f"{M}:NOT_CALLABLE", "is not callable"),
    ],
)
def test_custom_scorer_that_cannot_be_loaded(ref: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        build_scorers([f"custom:{ref}"], [])


def test_custom_scorer_errors_are_reported_clearly() -> None:
    o = obs(["a"], ["a"])
    with pytest.raises(InvalidRequest, match=r"raises' raised ValueError: cannot score this"):
        metrics(f"custom:{M}:raises", o)
    with pytest.raises(InvalidRequest, match="returned str; expected a float or a dict"):
        metrics(f"custom:{M}:returns_text", o)


def test_custom_scorer_modules_can_be_limited() -> None:
    with pytest.raises(InvalidRequest, match="not allowed on this server"):
        build_scorers([f"custom:{M}:share_of_a"], [], allowed_modules=["mypkg"])
    assert build_scorers([f"custom:{M}:share_of_a"], [], allowed_modules=["tests.evaluation"])


def test_unknown_scorer_lists_the_known_ones() -> None:
    with pytest.raises(InvalidRequest, match="unknown; known scorers: accuracy"):
        build_scorers(["bleu"], [])


def test_defaults_follow_the_expected_values() -> None:
    assert default_specs(["a", "b"]) == ["accuracy", "f1", "latency"]
    assert default_specs([0, 1]) == ["accuracy", "f1", "latency"]
    assert default_specs([0.5, 1.0]) == ["mae", "latency"]
    assert default_specs([{"a": 1}]) == ["exact_match", "latency"]
    names = [s.name for s in build_scorers([], ["a"])]
    assert names == ["accuracy", "f1", "latency"]
    assert len(build_scorers(["mae", "rmse", "f1", "recall"], [])) == 2


def test_scored_value_defaults_to_label_then_value() -> None:
    assert scored_value({"label": "a", "value": 1}, None) == "a"
    assert scored_value({"value": 1.5}, None) == 1.5
    assert scored_value("text", None) == "text"
    assert scored_value({"a": {"b": 2}}, "a.b") == 2
    assert scored_value({"a": 1}, "missing") is None


def test_direction_of_metrics() -> None:
    assert lower_is_better("mae") and lower_is_better("latency_p95_ms")
    assert lower_is_better("custom_loss") and not lower_is_better("accuracy")
