"""Person names found by context cues: "my name is", "Dear", titles, sign-offs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import NAME, Entity

_CAP = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)?"
_NAME_WORDS = rf"{_CAP}(?: (?:de |van |von |da |di |del |la |le )?{_CAP}){{0,2}}"
_STRONG_CUES = (
    r"[Mm]y name is|[Mm]y name's|[Nn]ame\s*:|[Dd]ear|[Rr]egards,|[Ss]incerely,|[Ss]igned,?|"
    r"[Cc]ontact(?: person)?:|[Pp]atient:|[Cc]ustomer:|[Mm]e llamo|[Mm]i nombre es|"
    r"[Jj]e m'appelle|[Jj]e m’appelle|[Mm]on nom est|[Ii]ch heiße|[Ii]ch heisse|"
    r"[Mm]ein Name ist|[Mm]i chiamo|[Ii]l mio nome è|[Mm]eu nome é|[Mm]e chamo"
)
_TITLES = r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sra|Mme|Mlle|Herr|Frau|Sig\.ra|Sig)\.?"
_WEAK_CUES = r"[Hh]i|[Hh]ello|I am|I'm|[Tt]his is|[Cc]all me|[Tt]hanks,|[Cc]heers,|[Bb]est,"
_NAME_CUES = (
    re.compile(
        rf"(?:\b(?:{_STRONG_CUES})\s+(?:{_TITLES}\s+)?|\b{_TITLES}\s+)(?P<name>{_NAME_WORDS})"
    ),
    # Weak cues ("Hi", "I'm") need a first and a last name: "I'm Sure" is not a person.
    re.compile(rf"\b(?:{_WEAK_CUES})\s+(?P<name>{_CAP} {_NAME_WORDS})"),
)
# Literals the strong cues and titles contain (each alternative holds one of these): a
# text with none cannot match the first pattern, which is costly to try at every position.
_STRONG_LITERALS = (
    "y name", "Dear", "dear", "egards,", "incerely,", "igned", "ontact", "atient:", "ustomer:",
    "e llamo", "i nombre es", "appelle", "on nom est", "ch hei", "ein Name ist", "i chiamo",
    "l mio nome è", "eu nome é", "e chamo",
    "Mr", "Ms", "Mx", "Dr", "Prof", "Sra", "Mme", "Mlle", "Herr", "Frau", "Sig",
)  # fmt: skip
# "[Nn]ame\s*:" holds "ame" and a colon.
_NAME_COLON = ("ame", ":")
# A weak cue's name is two capitalised words: the scan for them skips every other letter.
_CAP_PAIR = re.compile(rf"{_CAP} {_CAP}")
# Capitalised words that follow a cue but are not names ("Hi Team", "I am Happy").
_NOT_NAMES_TEXT = (
    "All Everyone Team Support There Sir Madam Customer Service Guys Folks Friends Again "
    "Happy Sorry Not Here Just Also Still Writing Looking Trying Interested Able Going Sure "
    "The This That Thanks Thank Please Hello Hi Dear Regards Best Monday Tuesday Wednesday "
    "Thursday Friday Saturday Sunday January February March April May June July August "
    "September October November December Admin Manager Hiring Sales Billing Dev Python "
    "Assistant User System AI Bot Chatbot Claude Siri Alexa"
)
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def find_names(text: str) -> Iterator[Entity]:
    for min_words, pattern in enumerate(_NAME_CUES, start=1):
        if not _may_match(min_words, text):
            continue
        for m in pattern.finditer(text):
            words = m.group("name").split(" ")
            while words and words[-1] in _NOT_NAMES:
                words.pop()
            if len(words) < min_words or any(w in _NOT_NAMES for w in words):
                continue
            value = " ".join(words)
            start = m.start("name")
            yield Entity(NAME, start, start + len(value), value, 0.6)


def _may_match(min_words: int, text: str) -> bool:
    if min_words == 1:
        return any(c in text for c in _STRONG_LITERALS) or all(c in text for c in _NAME_COLON)
    return _CAP_PAIR.search(text) is not None
