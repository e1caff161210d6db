"""Data rules: each kind catches what it should and nothing else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bastion.data.profile_rules import profile_rules
from bastion.data.rules import check_row, compile_rules
from bastion.monitoring import build_profile
from bastion.settings.data import DataRuleSettings


def rules(*docs: dict) -> tuple:  # type: ignore[type-arg]
    return compile_rules(DataRuleSettings(**d) for d in docs)


def test_each_rule_kind_names_itself_and_the_field() -> None:
    contract = rules(
        {"name": "age_range", "kind": "range", "field": "age", "min": 0, "max": 120},
        {"name": "country", "kind": "categories", "field": "country", "allowed": ["FR", "DE"]},
        {"name": "email_present", "kind": "not_null", "field": "email"},
        {"name": "email_shape", "kind": "pattern", "field": "email", "pattern": r"[^@]+@[^@]+"},
        {"name": "dates", "kind": "compare", "field": "start", "op": "<=", "other": "end"},
    )
    good = {"age": 30, "country": "FR", "email": "a@b.c", "start": 1, "end": 2}
    assert check_row(contract, good) == []
    bad = {"age": 130, "country": "US", "email": None, "start": 3, "end": 2}
    assert [v.rule for v in check_row(contract, bad)] == [
        "age_range",
        "country",
        "email_present",
        "dates",
    ]
    assert check_row(contract, {**good, "email": "nope"})[0].rule == "email_shape"
    assert check_row(contract, {**good, "age": "old"})[0].message == "age: 'old' is not a number"
    assert check_row(contract, ["not", "an", "object"])[0].rule == "row_shape"


def test_an_incomplete_rule_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="needs 'min' or 'max'"):
        DataRuleSettings(name="r", kind="range", field="x")


def test_rules_learned_from_a_training_profile_catch_a_unit_change() -> None:
    rows = [{"length_m": 1.0 + i / 100, "colour": ["red", "blue"][i % 2]} for i in range(200)]
    learned = profile_rules(build_profile(rows), tolerance=0.1)
    assert {r.name for r in learned} == {"profile.length_m", "profile.colour"}
    assert check_row(learned, {"length_m": 1.5, "colour": "red"}) == []
    in_cm = check_row(learned, {"length_m": 150.0, "colour": "green"})
    assert [v.rule for v in in_cm] == ["profile.length_m", "profile.colour"]
    assert "training range" in in_cm[0].message
