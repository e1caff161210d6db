"""Schema change detection: renames, unit shifts, type changes and new categories are named;
the same source diffed against itself shows nothing."""

from __future__ import annotations

from bastion.data.diff import expected_fields, schema_diff
from bastion.monitoring import build_profile

TRAIN = [
    {"length_m": 1.0 + (i % 50) / 100, "width_m": 0.3 + (i % 7) / 100, "colour": "red"}
    for i in range(300)
]
SCHEMA = {
    "properties": {
        "length_m": {"type": "number"},
        "width_m": {"type": "number"},
        "colour": {"type": "string"},
    }
}


def test_the_training_source_itself_shows_no_change() -> None:
    profile = build_profile(TRAIN)
    diff = schema_diff(TRAIN, expected_fields(SCHEMA, profile), profile)
    assert diff.changes == 0 and diff.summary() == "no change"


def test_a_rename_a_unit_change_a_type_change_and_a_new_category_are_named() -> None:
    profile = build_profile(TRAIN)
    rows = [
        {
            "length": r["length_m"],  # renamed
            "width_m": r["width_m"] * 100,  # metres read as centimetres
            "colour": "blue" if i % 2 else "red",  # a category training never saw
            "extra": 1,
        }
        for i, r in enumerate(TRAIN)
    ]
    rows[0]["colour"] = 3  # type: ignore[assignment]
    diff = schema_diff(rows, expected_fields(SCHEMA, profile), profile)
    assert diff.renamed == [{"from": "length_m", "to": "length"}]
    assert diff.new == ["extra"] and diff.missing == []
    assert [(u["field"], round(u["factor"])) for u in diff.unit] == [("width_m", 100)]
    assert diff.new_categories == {"colour": ["blue"]}
    assert diff.type == [{"field": "colour", "expected": "string", "seen": "number,string"}]
    assert "renamed length_m → length" in diff.summary()
