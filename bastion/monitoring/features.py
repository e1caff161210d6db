"""What drift and accuracy read from one served item: its features, text, label or value."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

TEXT_LENGTH = "text_length"
MAX_LABEL_CHARS = 200
_SCALARS = (str, int, float, bool)
# exact types every value / key of an object may have for the object to be copied whole
_PLAIN = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})


def features_of(
    item: Any, feature_names: Sequence[str] | None = None
) -> tuple[dict[str, Any], str | None]:
    """(the row of input features drift compares, the text to embed or None).

    An object input gives its scalar fields (nested values are left out); an array gives its
    values under the model's ``feature_names`` (``f0, f1, …`` without them); a text gives its
    length and itself; a chat request gives the length of its last user message and that
    message. Anything else gives no features.
    """
    if isinstance(item, str):
        return {TEXT_LENGTH: len(item)}, item
    if isinstance(item, Mapping):
        messages = item.get("messages")
        if isinstance(messages, list):
            text = last_user_text(messages)
            return ({TEXT_LENGTH: len(text)}, text) if text is not None else ({}, None)
        plain = item.__class__ is dict and _PLAIN.issuperset(map(type, item.values()))
        if plain and _STR.issuperset(map(type, item)):  # a JSON object of scalars: all of it
            return dict(item), None
        return {str(k): v for k, v in item.items() if v is None or isinstance(v, _SCALARS)}, None
    if isinstance(item, list | tuple):
        names = (
            list(feature_names)
            if feature_names and len(feature_names) == len(item)
            else [f"f{i}" for i in range(len(item))]
        )
        return {
            n: v for n, v in zip(names, item, strict=True) if v is None or isinstance(v, _SCALARS)
        }, None
    return {}, None


def last_user_text(messages: Sequence[Any]) -> str | None:
    """The text of the last user message of an OpenAI-style chat (string or text parts)."""
    for message in reversed(messages):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            parts = [p.get("text") for p in content if isinstance(p, Mapping)]
            return " ".join(p for p in parts if isinstance(p, str))
    return None


def outcome_of(output: Any) -> tuple[str | None, float | None]:
    """(class label, regression value) of a model output; both None for anything else.

    ``{"label": ...}`` and short strings, bools or integers-as-labels are labels;
    ``{"value": n}`` and bare numbers are values.
    """
    if isinstance(output, Mapping):
        if "label" in output:
            return label_key(output["label"]), None
        if "value" in output:
            return None, number(output["value"])
        return None, None
    if isinstance(output, str | bool):
        return label_key(output), None
    return None, number(output)


def label_key(value: Any) -> str | None:
    """A class label as compared: strings as they are, bools and integers as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if len(value) <= MAX_LABEL_CHARS else None
    if isinstance(value, int):
        return str(value)
    return None


def number(value: Any) -> float | None:
    """A finite number (not a bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None
