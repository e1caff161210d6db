"""PiiDetector: runs the recognizers, resolves overlaps by priority, redacts and scrubs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, Literal

from bastion.guards.pii.addresses import find_addresses
from bastion.guards.pii.context import find_names
from bastion.guards.pii.dob import find_dobs
from bastion.guards.pii.entity import (
    ADDRESS,
    ALL_TYPES,
    CARD,
    DOB,
    EMAIL,
    IBAN,
    IP,
    LOCATION,
    NAME,
    PHONE,
    PRIORITY,
    SECRET,
    SSN,
    Entity,
    RedactedText,
    label,
)
from bastion.guards.pii.gazetteer import gazetteer
from bastion.guards.pii.names import find_cjk_names, find_gazetteer_names
from bastion.guards.pii.phone import DEFAULT_REGIONS, PhoneRecognizer
from bastion.guards.pii.places import find_places
from bastion.guards.pii.prescreen import Traits, traits
from bastion.guards.pii.secrets import find_secrets
from bastion.guards.pii.structured import (
    find_cards,
    find_emails,
    find_ibans,
    find_ipv4,
    find_ipv6,
    find_ssns,
)

RedactStyle = Literal["type", "mask"]
Finder = Callable[[str, Traits], Iterable[Entity]]
#: What a recognizer needs of a text (a ``Traits`` field; None: always run), see prescreen.
Gate = Literal["digit", "isdigit", "capitals"] | None
#: Texts up to this long have their entities remembered (the guard, the prediction log and
#: the audit scrubber see the same message; system prompts repeat across requests).
_MEMO_CHARS = 4_000


def resolve_overlaps(candidates: Iterable[Entity]) -> list[Entity]:
    """Keep non-overlapping spans: higher type priority first, then the longer span."""
    ranked = sorted(candidates, key=lambda e: (-PRIORITY[e.type], -(e.end - e.start), e.start))
    kept: list[Entity] = []
    for entity in ranked:
        if all(entity.end <= k.start or k.end <= entity.start for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.start)


def redact_entities(
    text: str, entities: Sequence[Entity], style: RedactStyle = "type"
) -> RedactedText:
    """Replace the given non-overlapping ``entities`` (sorted by start) in ``text``."""
    if not entities:
        return RedactedText(text, ())
    parts: list[str] = []
    pos = 0
    for e in entities:
        parts.append(text[pos : e.start])
        parts.append(label(e.type) if style == "type" else "*" * (e.end - e.start))
        pos = e.end
    parts.append(text[pos:])
    return RedactedText("".join(parts), tuple(entities))


class PiiDetector:
    """Finds PII and secrets in text; ``types`` selects which (default: all known types).

    The results for the last ``memo`` distinct texts (up to 4,000 characters) are kept:
    detection is a pure function of the text, and one request's message is read by the
    guard, the prediction log and the audit scrubber. Share one detector between them.
    """

    def __init__(
        self,
        types: Collection[str] | None = None,
        *,
        phone_regions: Sequence[str] = DEFAULT_REGIONS,
        memo: int = 512,
    ) -> None:
        selected = tuple(ALL_TYPES if types is None else types)
        unknown = sorted(set(selected) - set(ALL_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {', '.join(ALL_TYPES)}")
        self._phone = PhoneRecognizer(phone_regions)
        self._regions = tuple(phone_regions)
        finders: dict[str, tuple[tuple[Gate, Finder], ...]] = {
            SECRET: ((None, _plain(find_secrets)),),
            EMAIL: ((None, _plain(find_emails)),),
            IBAN: (("digit", _plain(find_ibans)),),
            CARD: (("digit", _plain(find_cards)),),
            SSN: (("digit", _plain(find_ssns)),),
            IP: (("digit", _plain(find_ipv4)), (None, _plain(find_ipv6))),
            DOB: (("digit", _plain(find_dobs)),),
            ADDRESS: (("isdigit", _plain(find_addresses)),),
            NAME: (("capitals", _find_all_names),),
            LOCATION: (("capitals", _find_places),),
        }
        self.types: tuple[str, ...] = tuple(t for t in ALL_TYPES if t in selected)
        self._finders = tuple(f for t in self.types if t != PHONE for f in finders[t])
        self._with_phone = PHONE in self.types
        self._memo = functools.lru_cache(maxsize=memo)(self._detect) if memo > 0 else None
        if NAME in self.types or LOCATION in self.types:
            gazetteer()  # loaded now (≈0.3 s, once per process), not on the first request

    def detect(self, text: str) -> list[Entity]:
        """Non-overlapping entities in ``text``, in order of position."""
        if len(text) < 6:
            return []
        if self._memo is not None and len(text) <= _MEMO_CHARS:
            return list(self._memo(text))
        return list(self._detect(text))

    def without_memo(self) -> PiiDetector:
        """The same detector without the memo (to time detection itself)."""
        return PiiDetector(self.types, phone_regions=self._regions, memo=0)

    def _detect(self, text: str) -> tuple[Entity, ...]:
        has = traits(text)
        found = [e for gate, find in self._finders if _open(gate, has) for e in find(text, has)]
        if self._with_phone and has.digit:
            # After the others: a digit run already claimed by a card or IBAN is not parsed.
            found.extend(self._phone.find(text, found))
        return tuple(resolve_overlaps(found))

    def redact(self, text: str, style: RedactStyle = "type") -> RedactedText:
        """Replace each entity by ``[TYPE]`` (style "type") or by asterisks (style "mask")."""
        return redact_entities(text, self.detect(text), style)

    def scrub(self, obj: Any, style: RedactStyle = "type") -> Any:
        """A copy of a JSON-like value (dict/list/tuple/str) with every string redacted.

        Keys are kept as they are; numbers, booleans and None are returned unchanged. A list
        or tuple holding only those (an embedding's floats) is copied in one step, not visited
        an element at a time.
        """
        if isinstance(obj, str):
            return self.redact(obj, style).text
        if isinstance(obj, dict):
            return {k: self.scrub(v, style) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            if _NO_TEXT.issuperset(map(type, obj)):  # exact types: a str subclass is walked
                return type(obj)(obj)
            return type(obj)(self.scrub(v, style) for v in obj)
        return obj

    def counts(self, texts: Iterable[str]) -> dict[str, int]:
        """How many entities of each type occur across ``texts``."""
        out: dict[str, int] = {}
        for e in _flatten(self.detect(t) for t in texts):
            out[e.type] = out.get(e.type, 0) + 1
        return out


# Element types that hold no text: a sequence of only these has nothing to scrub.
_NO_TEXT = frozenset({float, int, bool, type(None)})


def _open(gate: Gate, has: Traits) -> bool:
    return gate is None or getattr(has, gate) is True


def _plain(find: Callable[[str], Iterable[Entity]]) -> Finder:
    return lambda text, _has: find(text)


def _find_all_names(text: str, has: Traits) -> Iterator[Entity]:
    if has.capital_runs:
        yield from find_names(text)
        yield from find_gazetteer_names(text, runs=has.capital_runs)
    if has.cjk:
        yield from find_cjk_names(text)


def _find_places(text: str, has: Traits) -> Iterable[Entity]:
    return find_places(text, runs=has.capital_runs)


def _flatten(groups: Iterable[list[Entity]]) -> Iterator[Entity]:
    for group in groups:
        yield from group
