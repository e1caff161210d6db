"""Place names (cities, countries, regions) from the shipped lists, Latin and CJK scripts."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from bastion.guards.pii.entity import LOCATION, Entity
from bastion.guards.pii.gazetteer import Gazetteer, gazetteer
from bastion.guards.pii.gazetteer import words as _words

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_JOINERS = frozenset(_words("de del da do di la le am an upon on sur sous en im"))
_MAX_WORDS = 4
# Two-character CJK names need an administrative suffix unless they are major cities.
_CJK_MAJOR = (
    "北京|上海|广州|深圳|天津|重庆|南京|杭州|成都|武汉|西安|香港|澳门|台北|苏州|"
    "東京|东京|大阪|京都|横浜|札幌|福岡|神戸|名古屋|仙台|広島|沖縄"
)


@functools.cache
def _cjk_pattern(places: tuple[str, ...]) -> re.Pattern[str]:
    long = "|".join(re.escape(p) for p in places if len(p) >= 3)
    short = "|".join(re.escape(p) for p in places if len(p) == 2)
    return re.compile(rf"{_CJK_MAJOR}|{long}|(?:{short})(?=[市省区县都府県州])")


def find_places(text: str, gaz: Gazetteer | None = None) -> Iterator[Entity]:
    g = gaz or gazetteer()
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    i, n = 0, len(words)
    while i < n:
        start, _, tok = words[i]
        if not tok[0].isupper() or tok.isupper():
            i += 1
            continue
        best = -1
        for j in range(i, min(n, i + _MAX_WORDS)):
            if j > i and text[words[j - 1][1] : words[j][0]] not in (" ", "-"):
                break
            word = words[j][2]
            if j > i and not word[0].isupper() and word not in _JOINERS:
                break
            if word[0].isupper() and text[start : words[j][1]] in g.places:
                best = j
        if best < 0:
            i += 1
            continue
        end = words[best][1]
        yield Entity(LOCATION, start, end, text[start:end], 0.55)
        i = best + 1
    if any("\u3040" <= c <= "\u9fff" for c in text):
        for m in _cjk_pattern(g.cjk_places).finditer(text):
            yield Entity(LOCATION, m.start(), m.end(), m.group(), 0.55)
