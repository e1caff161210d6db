"""A registered preprocessing function for the transform tests: a source that sends the
mean radius in millimetres, prepared into the centimetres the model was trained on."""

from __future__ import annotations

from typing import Any


def mm_to_cm(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["mean_radius"] = out.pop("mean_radius_mm") / 10
    return out
