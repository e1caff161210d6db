"""Dates of birth: a date within a few words after a birth cue, in eleven languages."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import DOB, Entity

_MONTHS = (
    "jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|f[ée]vrier|mar(?:ch|s)?|m[äa]rz|apr(?:il)?|avril|"
    "may|mai|jun[ei]?|juin|jul[yi]?|juillet|aug(?:ust)?|ao[ûu]t|sep(?:t(?:ember)?)?|"
    "septembre|oct(?:ober)?|okt(?:ober)?|octobre|nov(?:ember)?|novembre|dec(?:ember)?|"
    "dez(?:ember)?|d[ée]cembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    "septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|"
    "settembre|ottobre|dicembre|januari|februari|maart|mei|juni|juli|augustus|oktober|"
    "stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|"
    "listopada|grudnia"
)
_DATE = (
    r"\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d\d"
    r"|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º)?\.?\s(?:de\s)?(?:{_MONTHS})\.?,?\s(?:de\s)?(?:19|20)\d\d"
    rf"|(?:{_MONTHS})\.?\s\d{{1,2}}(?:st|nd|rd|th)?,?\s(?:19|20)\d\d"
    r"|(?:19|20)\d\d\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日"
    r"|(?:昭和|平成|令和)\s?\d{1,2}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日"
)
_CUE = (
    r"date\s+of\s+birth|birth\s?date|birthday|d\.?o\.?b\.?|born(?:\s+on)?|"
    r"geburtsdatum|geburtstag|geboren(?:\s+am)?|geb\.|"
    r"date\s+de\s+naissance|n[ée]e?\s+le|"
    r"fecha\s+de\s+nacimiento|naci[óo]\s+el|nacid[oa]\s+el|"
    r"data\s+di\s+nascita|nat[oa]\s+il|"
    r"geboortedatum|geboren\s+op|"
    r"data\s+urodzenia|urodzon[ya](?:\s+dnia)?|ur\.|"
    r"出生日期|出生于|出生於|生日|生年月日|誕生日|生まれ"
)
_DOB = re.compile(
    rf"(?i)(?:{_CUE})(?:\s*(?:is|was|ist|est|es|è|:|：|is\s+op|=|-|\(dob\)|は))?"
    rf"[\s,:：]{{0,3}}(?P<d>{_DATE})"
)
_DOB_AFTER = re.compile(rf"(?P<d>{_DATE})\s?(?:生まれ|出生|生)")
_CUE_HINT = re.compile(
    r"(?i)birth|born|dob|d\.o\.b|geb|naiss|n[ée]e? le|naci|nasc|nat[oa] il|urodz|ur\.|"
    r"出生|生日|生年|誕生|生まれ"
)


def find_dobs(text: str) -> Iterator[Entity]:
    if not _CUE_HINT.search(text):
        return
    # Search only near each cue: the full patterns are costly to try at every position.
    seen: set[int] = set()
    for hint in _CUE_HINT.finditer(text):
        lo, hi = max(0, hint.start() - 40), min(len(text), hint.end() + 60)
        for pattern in (_DOB, _DOB_AFTER):
            for m in pattern.finditer(text, lo, hi):
                if m.start("d") not in seen:
                    seen.add(m.start("d"))
                    yield Entity(DOB, m.start("d"), m.end("d"), m.group("d"), 0.8)
