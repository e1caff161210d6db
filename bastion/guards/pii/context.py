"""Lower-confidence types found by context cues: person names and street addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import ADDRESS, NAME, Entity

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

_SUFFIX = (
    r"(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Parkway|Highway|"
    r"Circle|Square|Trail|Close|Crescent)\b|"
    r"(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Hwy|Cir|Sq|Trl)\b\.?)"
)
_ADDRESSES = (
    # 1600 Pennsylvania Avenue NW, Apt 4B, Springfield, IL 62704
    re.compile(
        rf"\b\d{{1,6}}[A-Za-z]? (?:[NSEW]\.? )?(?:{_CAP} ){{1,3}}{_SUFFIX}"
        r"(?: (?:NW|NE|SW|SE|N|S|E|W)\b)?"
        r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#)\.? ?[\w-]+)?"
        rf"(?:, {_CAP}(?: {_CAP})?,? [A-Z]{{2}} \d{{5}}(?:-\d{{4}})?)?"
    ),
    # 12 rue de la Paix / 5 avenue des Champs-Élysées
    re.compile(
        r"\b\d{1,4}(?: ?bis| ?ter)?,? (?:rue|avenue|boulevard|bd|chemin|allée|impasse|quai) "
        r"(?:(?:de la|de l'|du|des|de|d') ?)?" + _CAP + r"(?:[ -]" + _CAP + r"){0,2}"
    ),
    # Hauptstraße 5 / Calle Mayor 12 / Via Roma 10 / Rua Augusta 274
    re.compile(
        r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring) \d{1,4}[a-z]?\b"
    ),
    re.compile(
        r"\b(?:Calle|Avenida|Avda\.|Paseo|Plaza|Via|Viale|Piazza|Corso|Rua|Travessa|Praça) "
        r"(?:(?:de la|del|de|da|do|dos|das|di|della) )?" + _CAP + r"(?: " + _CAP + r")?,? "
        r"(?:n\.?º? ?)?\d{1,4}\b"
    ),
)  # fmt: skip


def find_names(text: str) -> Iterator[Entity]:
    for min_words, pattern in enumerate(_NAME_CUES, start=1):
        for m in pattern.finditer(text):
            words = m.group("name").split(" ")
            while words and words[-1] in _NOT_NAMES:
                words.pop()
            if len(words) < min_words or any(w in _NOT_NAMES for w in words):
                continue
            value = " ".join(words)
            start = m.start("name")
            yield Entity(NAME, start, start + len(value), value, 0.6)


def find_addresses(text: str) -> Iterator[Entity]:
    for pattern in _ADDRESSES:
        for m in pattern.finditer(text):
            yield Entity(ADDRESS, m.start(), m.end(), m.group(), 0.5)
