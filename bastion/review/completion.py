"""Completing a reviewer's correction from what a person knows to the full output contract.

A person knows the label (or the value, or the text); the output contract of a classifier
also wants ``class_id``, ``probability`` and every class's probability. Those follow from the
label: the class's index in the contract's label enum, and a one-hot distribution (the
reviewer is certain). What was filled in is returned, so that the decision records that the
distribution is a person's, not a model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HUMAN = "human"


@dataclass(frozen=True, slots=True)
class Completion:
    """The output to check and store, and the fields Bastion filled in (empty: as given)."""

    output: Any
    filled: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """Who the stored output's figures come from: a person, whatever was filled."""
        return HUMAN


def complete_correction(schema: Mapping[str, Any] | None, given: Any) -> Completion:
    """``given`` completed against ``schema``; anything it cannot complete is left as given,
    for the contract check to name what is wrong."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return Completion(given)
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return Completion(given)
    classes = _classes(props)
    if classes is not None:
        return _classifier(props, classes, given)
    return _single_field(schema, props, given)


def _classes(props: Mapping[str, Any]) -> list[str] | None:
    """A classifier's classes, in class-id order: the ``label`` enum (strings only)."""
    label = props.get("label")
    enum = label.get("enum") if isinstance(label, Mapping) else None
    if isinstance(enum, list) and enum and all(isinstance(c, str) for c in enum):
        return list(enum)
    return None


def _classifier(props: Mapping[str, Any], classes: list[str], given: Any) -> Completion:
    if isinstance(given, str):
        out: dict[str, Any] = {"label": given}
        filled = ["label"]
    elif isinstance(given, Mapping):
        out, filled = dict(given), []
    else:
        return Completion(given)
    class_id = out.get("class_id")
    if "label" not in out and isinstance(class_id, int) and _is_index(class_id, classes):
        out["label"] = classes[class_id]
        filled.append("label")
    label = out.get("label")
    if label not in classes:
        return Completion(out, tuple(filled))
    k = classes.index(label)
    for name, value in (
        ("class_id", k),
        ("probability", 1.0),
        ("probabilities", {c: 1.0 if i == k else 0.0 for i, c in enumerate(classes)}),
    ):
        if name in props and name not in out:
            out[name] = value
            filled.append(name)
    return Completion(out, tuple(filled))


def _is_index(value: Any, classes: list[str]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(classes)


def _single_field(schema: Mapping[str, Any], props: Mapping[str, Any], given: Any) -> Completion:
    """An object with one required field (``{"value": …}``, ``{"text": …}``) from that field's
    bare value."""
    required = schema.get("required")
    if isinstance(given, Mapping | list) or not isinstance(required, list) or len(required) != 1:
        return Completion(given)
    name = required[0]
    if name not in props:
        return Completion(given)
    return Completion({name: given}, (name,))
