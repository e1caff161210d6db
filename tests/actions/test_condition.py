"""Conditions: the safe expression language (no eval), compiled once."""

from __future__ import annotations

import pytest

from bastion.actions.condition import compile_condition
from bastion.errors import ConfigError

CTX = {
    "output": {"label": "refund_request", "scores": [0.1, 0.9]},
    "confidence": 0.85,
    "input": {"amount": 120, "country": "DE"},
    "deployment": "support",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('output.label == "refund_request" and confidence >= 0.8', True),
        ('output.label == "refund_request" and confidence >= 0.9', False),
        ("input.amount > 100 or confidence < 0.1", True),
        ('input.country in ["DE", "FR"]', True),
        ('input.country not in ("DE",)', False),
        ("not (confidence < 0.5)", True),
        ("output.scores[1] > output.scores[0]", True),
        ("0.5 < confidence <= 0.9", True),
        ("output.missing == null", True),
        ("output.missing >= 0.8", False),  # null cannot be compared: the condition is false
        ("input.amount >= -1", True),
        ("true", True),
        ("", True),
        ("input['country'] == 'DE'", True),
    ],
)
def test_conditions_evaluate(text: str, expected: bool) -> None:
    assert compile_condition(text)(CTX) is expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "output.label.upper() == 'X'",
        "confidence + 1 > 2",
        "[x for x in input]",
        "lambda: 1",
        "secrets == 1",
        "output.__class__",
        "output.label ==",
    ],
)
def test_anything_else_is_refused_at_start(text: str) -> None:
    with pytest.raises(ConfigError):
        compile_condition(text)
