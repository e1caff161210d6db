"""Fake python-flavor models for evaluation tests (``tests.evaluation.models:NAME``).

Each row's input says what the model answers, so a test decides the scores it expects:
``say`` answers ``input["say"]``; ``say_v2`` answers ``input["v2"]`` when given, else the same.
"""

from __future__ import annotations

from typing import Any


def say(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": x["say"]}, "confidence": 0.9} for x in inputs]


def say_v2(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": x.get("v2", x["say"])}, "confidence": 0.9} for x in inputs]


def number(inputs: list[Any]) -> list[Any]:
    return [{"value": float(x["say"])} for x in inputs]


def broken(inputs: list[Any]) -> list[Any]:
    raise RuntimeError("the model crashed")


# custom scorers -----------------------------------------------------------------------------


def share_of_a(outputs: list[Any], expecteds: list[Any]) -> float:
    return sum(o == "a" for o in outputs) / len(outputs)


def two_metrics(outputs: list[Any], expecteds: list[Any]) -> dict[str, float]:
    return {"rows": float(len(outputs)), "same": float(outputs == expecteds)}


def raises(outputs: list[Any], expecteds: list[Any]) -> float:
    raise ValueError("cannot score this")


def returns_text(outputs: list[Any], expecteds: list[Any]) -> str:
    return "great"


NOT_CALLABLE = 3
