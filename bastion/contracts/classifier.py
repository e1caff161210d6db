"""A whole-batch output check for the commonest answer: a classifier's ``{label, …}``.

``classifier_schema(classes)`` is the output contract of a classifier (the demos register
it). When a version declares exactly that contract and its backend answers in columns
(``ClassifierColumns``), every row has the same keys, labels and class ids by construction;
what is left to check is that every probability is a number in [0, 1], which numpy does for
the whole matrix at once. Any other contract, or any doubt, and the caller checks the rows
one by one as before: this is a shortcut for batches that pass, never a second rule set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bastion.backends.columns import ClassifierColumns

_IGNORED = frozenset({"$schema", "title", "description"})


def classifier_schema(classes: Sequence[str]) -> dict[str, Any]:
    """One classifier answer: ``{label, class_id, probability, probabilities}``."""
    names = list(classes)
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": names},
            "class_id": {"type": "integer", "minimum": 0, "maximum": len(names) - 1},
            "probability": probability,
            "probabilities": {
                "type": "object",
                "properties": {name: probability for name in names},
                "required": names,
                "additionalProperties": False,
            },
        },
        "required": ["label", "class_id", "probability", "probabilities"],
        "additionalProperties": False,
    }


def classifier_columns_valid(schema: Mapping[str, Any], answers: Any) -> bool:
    """True only when ``answers`` are ``ClassifierColumns`` that certainly satisfy ``schema``."""
    if not isinstance(answers, ClassifierColumns):
        return False
    bare = {k: v for k, v in schema.items() if k not in _IGNORED}
    if bare != classifier_schema(answers.classes):
        return False
    p = answers.probabilities
    return bool(np.isfinite(p).all() and (p >= 0.0).all() and (p <= 1.0).all())
