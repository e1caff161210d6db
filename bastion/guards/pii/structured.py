"""Recognizers for structured identifiers: emails, payment cards, IBANs, US SSNs, IP addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import CARD, EMAIL, IBAN, IP, SSN, Entity
from bastion.guards.pii.validators import IBAN_LENGTHS, card_ok, iban_ok, ip_ok, ssn_ok

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9_-]|:[\w~./-])"
)
# 13-19 digits, single spaces or dashes allowed between them; not part of a longer number.
_CARD = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){11,18}(?![\w]|[.,-]\d)")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,30}")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_SSN_BARE = re.compile(r"(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?| #)?|ss#)\W{0,5}$")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)
# Dotted numbers after these words are versions or section numbers, not addresses.
_VERSION_CUE = re.compile(
    r"(?i)(?:\bv|version|release|build|section|chapter|clause|figure|table|step|§)\s*$"
)


def find_emails(text: str) -> Iterator[Entity]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield Entity(EMAIL, m.start(), m.end(), m.group(), 0.95)


def find_cards(text: str) -> Iterator[Entity]:
    for m in _CARD.finditer(text):
        raw = m.group()
        digits = raw.replace(" ", "").replace("-", "")
        if card_ok(digits):
            yield Entity(CARD, m.start(), m.end(), raw, 0.95)


def find_ibans(text: str) -> Iterator[Entity]:
    pos = 0
    while m := _IBAN.search(text, pos):
        pos = m.start() + 4
        raw = m.group()
        length = IBAN_LENGTHS.get(raw[:2].upper())
        if length is None:
            continue
        # Take exactly ``length`` alphanumerics: the pattern may run on into the next words.
        count, end = 0, 0
        for i, ch in enumerate(raw):
            if ch != " ":
                count += 1
                if count == length:
                    end = i + 1
                    break
        if not end or (end < len(raw) and raw[end] != " "):
            continue
        if iban_ok(raw[:end].replace(" ", "").upper()):
            pos = m.start() + end
            yield Entity(IBAN, m.start(), pos, raw[:end], 0.95)


def find_ssns(text: str) -> Iterator[Entity]:
    for m in _SSN.finditer(text):
        if ssn_ok(m.group(1), m.group(3), m.group(4)):
            yield Entity(SSN, m.start(), m.end(), m.group(), 0.85)
    for m in _SSN_BARE.finditer(text):
        cue = _SSN_CONTEXT.search(text, max(0, m.start() - 30), m.start())
        if cue and ssn_ok(m.group(1), m.group(2), m.group(3)):
            yield Entity(SSN, m.start(), m.end(), m.group(), 0.7)


def find_ips(text: str) -> Iterator[Entity]:
    yield from find_ipv4(text)
    yield from find_ipv6(text)


def find_ipv4(text: str) -> Iterator[Entity]:
    if "." in text:
        for m in _IPV4.finditer(text):
            if _VERSION_CUE.search(text, max(0, m.start() - 12), m.start()):
                continue
            if ip_ok(m.group()):
                yield Entity(IP, m.start(), m.end(), m.group(), 0.9)


def find_ipv6(text: str) -> Iterator[Entity]:
    if "::" in text or text.count(":") >= 4:
        for m in _IPV6.finditer(text):
            raw = m.group()
            hex_digits = sum(c != ":" for c in raw)
            if (raw.count(":") >= 4 or ("::" in raw and hex_digits >= 4)) and ip_ok(raw):
                yield Entity(IP, m.start(), m.end(), raw, 0.9)
