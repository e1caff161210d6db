"""Fake models for the review tests (python flavor entry points ``tests.review.models:…``)."""

from __future__ import annotations

from typing import Any


def classify(inputs: list[Any]) -> list[Any]:
    """Says "spam" with the confidence the input asks for (default 0.9)."""
    return [
        {"output": {"label": "spam"}, "confidence": float(item.get("confidence", 0.9))}
        for item in inputs
    ]


def strong(inputs: list[Any]) -> list[Any]:
    """A "stronger model": says "ham", sure of it unless the input says "hard"."""
    return [
        {"output": {"label": "ham"}, "confidence": 0.4 if item.get("hard") else 0.97}
        for item in inputs
    ]


INTENTS = ["billing_question", "cancel", "refund"]


def intent(inputs: list[Any]) -> list[Any]:
    """A classifier with the full output contract, unsure: "refund" at 0.4."""
    probabilities = {"billing_question": 0.35, "cancel": 0.25, "refund": 0.4}
    output = {"label": "refund", "class_id": 2, "probability": 0.4, "probabilities": probabilities}
    return [{"output": output, "confidence": 0.4} for _ in inputs]
