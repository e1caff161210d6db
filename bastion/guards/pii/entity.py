"""PII entity values, the known entity types, their redaction labels and overlap priorities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

EMAIL = "email"
PHONE = "phone"
CARD = "card"
IBAN = "iban"
SSN = "ssn"
IP = "ip"
SECRET = "secret"
NAME = "name"
ADDRESS = "address"
DOB = "dob"
LOCATION = "location"

#: Every type the detector knows, highest overlap priority first.
ALL_TYPES: tuple[str, ...] = (
    SECRET, EMAIL, IBAN, CARD, SSN, PHONE, IP, DOB, ADDRESS, NAME, LOCATION
)  # fmt: skip
#: Types found by pattern plus validator; the others rest on cues, lists and shapes.
HIGH_CONFIDENCE_TYPES: tuple[str, ...] = (SECRET, EMAIL, IBAN, CARD, SSN, PHONE, IP)
LOW_CONFIDENCE_TYPES: tuple[str, ...] = (DOB, ADDRESS, NAME, LOCATION)

PRIORITY: Mapping[str, int] = MappingProxyType(
    {t: len(ALL_TYPES) - i for i, t in enumerate(ALL_TYPES)}
)


@dataclass(frozen=True, slots=True)
class Entity:
    """One detected span: ``text[start:end]`` is of ``type``; ``score`` is the confidence."""

    type: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class RedactedText:
    """The redacted text and the entities (offsets into the ORIGINAL text) that were replaced."""

    text: str
    entities: tuple[Entity, ...]


def label(entity_type: str) -> str:
    """``email`` → ``[EMAIL]``."""
    return f"[{entity_type.upper()}]"
