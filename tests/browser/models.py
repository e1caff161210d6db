"""A tiny model for the browser tests (python flavor ``tests.browser.models:echo``)."""

from __future__ import annotations

from typing import Any


def echo(inputs: list[Any]) -> list[Any]:
    return [{"output": {"echo": item}, "confidence": 0.99} for item in inputs]
