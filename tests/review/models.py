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
