"""Templated bodies: placeholders over input and output fields; types kept for whole values."""

from __future__ import annotations

import pytest

from bastion.actions.template import compile_template
from bastion.errors import ConfigError

CTX = {
    "input": {"customer": "c-1", "items": [1, 2]},
    "output": {"label": "refund", "extra": {"a": 1}},
    "confidence": 0.9,
    "decision_id": "req-1:0",
}


def test_whole_values_keep_their_type_and_strings_interpolate() -> None:
    render = compile_template(
        {
            "customer": "{{ input.customer }}",
            "items": "{{input.items}}",
            "confidence": "{{ confidence }}",
            "note": "label={{ output.label }} conf={{ confidence }} x={{ output.extra }}",
            "missing": "{{ output.nope }}",
            "fixed": 3,
            "list": ["{{ decision_id }}", "a"],
        },
        "t",
    )
    assert render(CTX) == {
        "customer": "c-1",
        "items": [1, 2],
        "confidence": 0.9,
        "note": 'label=refund conf=0.9 x={"a":1}',
        "missing": None,
        "fixed": 3,
        "list": ["req-1:0", "a"],
    }


@pytest.mark.parametrize("bad", ["{{ secret }}", "{{ input.a + 1 }}", "{{ os.environ }}"])
def test_bad_placeholders_fail_at_start(bad: str) -> None:
    with pytest.raises(ConfigError):
        compile_template({"x": bad}, "t")
