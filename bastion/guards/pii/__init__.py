"""PII and secret detection, redaction and scrubbing of JSON-like values."""

from bastion.guards.pii.detector import (
    PiiDetector,
    RedactStyle,
    redact_entities,
    resolve_overlaps,
)
from bastion.guards.pii.entity import (
    ALL_TYPES,
    HIGH_CONFIDENCE_TYPES,
    LOW_CONFIDENCE_TYPES,
    Entity,
    RedactedText,
    label,
)
from bastion.guards.pii.phone import DEFAULT_REGIONS

__all__ = [
    "ALL_TYPES",
    "DEFAULT_REGIONS",
    "HIGH_CONFIDENCE_TYPES",
    "LOW_CONFIDENCE_TYPES",
    "Entity",
    "PiiDetector",
    "RedactStyle",
    "RedactedText",
    "label",
    "redact_entities",
    "resolve_overlaps",
]
