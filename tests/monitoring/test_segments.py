"""Segments: values from input fields and headers, bucketed and bounded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bastion.monitoring.segments import Segmenter, bucket
from bastion.settings.monitoring import DeploymentMonitoringSettings, SegmentSettings


def test_field_and_header_segments() -> None:
    seg = Segmenter(
        [
            SegmentSettings(name="country", field="customer.country"),
            SegmentSettings(name="plan", header="plan"),
        ]
    )
    headers = seg.headers_of({"x-bastion-segment-plan": "pro", "x-other": "1"})
    assert headers == {"plan": "pro"}
    assert seg.values({"customer": {"country": "FR"}}, headers) == {"country": "FR", "plan": "pro"}
    assert seg.values({"customer": "FR"}, {}) == {"country": "unknown", "plan": "unknown"}
    assert seg.values("a text input", {}) == {"country": "unknown", "plan": "unknown"}


def test_numbers_are_bucketed_by_bins() -> None:
    seg = Segmenter([SegmentSettings(name="age", field="age", bins=[18, 65])])
    assert [seg.values({"age": a}, {})["age"] for a in (3, 18, 40, 65, 90)] == [
        "<18",
        "18..65",
        "18..65",
        ">=65",
        ">=65",
    ]
    assert seg.values({"age": "30"}, {})["age"] == "18..65"
    assert seg.values({"age": "old"}, {})["age"] == "unknown"
    assert seg.values({"age": float("nan")}, {})["age"] == "unknown"
    assert bucket(1.5, [1.0, 2.0]) == "1..2"


def test_values_are_bounded() -> None:
    allowed = Segmenter([SegmentSettings(name="tier", field="tier", values=["gold", "silver"])])
    assert [allowed.values({"tier": t}, {})["tier"] for t in ("gold", "bronze", None)] == [
        "gold",
        "other",
        "unknown",
    ]
    capped = Segmenter([SegmentSettings(name="city", field="city", max_values=2)])
    seen = [capped.values({"city": c}, {})["city"] for c in ("a", "b", "c", "a", "d")]
    assert seen == ["a", "b", "other", "a", "other"]
    flags = Segmenter([SegmentSettings(name="vip", field="vip")])
    assert flags.values({"vip": True}, {})["vip"] == "true"
    assert flags.values({"vip": ["x"]}, {})["vip"] == "other"
    long = Segmenter([SegmentSettings(name="n", field="n")]).values({"n": "x" * 500}, {})
    assert long["n"] == "x" * 64


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'field' or 'header'"):
        SegmentSettings(name="s", field="a", header="b")
    with pytest.raises(ValidationError, match="exactly one"):
        SegmentSettings(name="s")
    with pytest.raises(ValidationError, match="ascending"):
        SegmentSettings(name="s", field="a", bins=[3, 1])
    with pytest.raises(ValidationError, match="unique"):
        DeploymentMonitoringSettings(
            deployment="d",
            segments=[SegmentSettings(name="s", field="a"), SegmentSettings(name="s", field="b")],
        )
