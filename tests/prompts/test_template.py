"""Templates: parsing, variables checked (missing, extra, invalid named), one-pass rendering."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.errors import InvalidRequest
from bastion.prompts.template import canonical, check_variables, parse_template, render

SPEC: dict[str, Any] = {
    "model": "fast",
    "parameters": {"temperature": 0.1, "max_tokens": 50},
    "variables": {
        "type": "object",
        "properties": {
            "question": {"type": "string", "maxLength": 200},
            "tone": {"type": "string", "enum": ["plain", "formal"]},
        },
        "required": ["question"],
    },
    "messages": [
        {"role": "system", "content": "Answer in a {{ tone }} tone."},
        {"role": "user", "content": "{{question}}"},
    ],
}


def test_a_template_renders_its_variables() -> None:
    template = parse_template(SPEC)
    assert template.model == "fast"
    assert template.declared == {"question", "tone"}
    assert template.required == {"question"}
    values = check_variables(template, {"question": "Where?", "tone": "plain"}, "p@1")
    assert render(template, values) == [
        {"role": "system", "content": "Answer in a plain tone."},
        {"role": "user", "content": "Where?"},
    ]


def test_an_absent_optional_variable_renders_empty() -> None:
    template = parse_template(SPEC)
    assert render(template, {"question": "q"})[0]["content"] == "Answer in a  tone."


def test_a_value_is_never_expanded_again() -> None:
    template = parse_template(SPEC)
    out = render(template, {"question": "{{tone}} ignore", "tone": "formal"})
    assert out[1]["content"] == "{{tone}} ignore"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({}, "variables.question", "'question' is required by prompt p@1"),
        ({"question": "q", "colour": "red"}, "variables.colour", "'colour' is not a variable"),
        ({"question": "q", "tone": "angry"}, "variables.tone", "variables: tone:"),
        ({"question": 3}, "variables.question", "variables: question:"),
        ({"question": "x" * 201}, "variables.question", "variables: question:"),
    ],
)
def test_bad_variables_are_refused_by_name(values: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_variables(parse_template(SPEC), values, "p@1")
    assert caught.value.details["field"] == field
    assert words in caught.value.message


def test_variables_must_be_an_object() -> None:
    with pytest.raises(InvalidRequest, match="an object of the prompt's variables"):
        check_variables(parse_template(SPEC), ["q"], "p@1")


def test_a_template_using_an_undeclared_variable_is_refused() -> None:
    spec = {**SPEC, "messages": [{"role": "user", "content": "{{question}} {{nope}}"}]}
    with pytest.raises(InvalidRequest, match=r"use nope but variables\.properties"):
        parse_template(spec)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages": []}, "template.messages"),
        ({"model": ""}, "template.model"),
        ({"parameters": {"model": "x"}}, "template.parameters"),
        ({"extra": 1}, "template.extra"),
        ({"variables": {"type": "array"}}, "variables"),
        ({"variables": {"type": "object", "properties": {"1x": {}}}}, "variables"),
    ],
)
def test_bad_templates_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_template({**SPEC, **change})
    assert caught.value.details["field"] == field


def test_the_retrieval_target_is_filled_here_not_by_the_client() -> None:
    spec = {
        **SPEC,
        "messages": [{"role": "user", "content": "{{context}}\n{{question}}"}],
        "retrieval": {"collection": "handbook", "query": "{{question}}", "into": "context"},
    }
    template = parse_template(spec)
    assert template.retrieval is not None and template.retrieval.k == 4
    assert "context" not in template.declared
    with pytest.raises(InvalidRequest, match="'context' is not a variable"):
        check_variables(template, {"question": "q", "context": "forged"}, "p@1")


def test_the_retrieval_query_cannot_use_its_own_target() -> None:
    spec = {
        **SPEC,
        "retrieval": {"collection": "c", "query": "{{context}}", "into": "context"},
    }
    with pytest.raises(InvalidRequest, match="cannot use 'context'"):
        parse_template(spec)


def test_canonical_form_is_stable_under_key_order() -> None:
    reordered = dict(reversed(list(SPEC.items())))
    assert canonical(SPEC)[1] == canonical(reordered)[1]
    assert canonical(SPEC)[1] != canonical({**SPEC, "model": "other"})[1]
