"""Place names (cities, countries, regions) from the shipped lists, Latin and CJK scripts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bastion.guards.pii.entity import LOCATION, Entity
from bastion.guards.pii.gazetteer import PLACE_WORD as _WORD
from bastion.guards.pii.gazetteer import Gazetteer, gazetteer
from bastion.guards.pii.gazetteer import words as _words
from bastion.guards.pii.prescreen import run_word, traits

_JOINERS = frozenset(_words("de del da do di la le am an upon on sur sous en im"))
_MAX_WORDS = 4
# Two-character CJK names need an administrative suffix unless they are major cities.
_CJK_MAJOR = frozenset(
    _words(
        "北京 上海 广州 深圳 天津 重庆 南京 杭州 成都 武汉 西安 香港 澳门 台北 苏州 "
        "東京 东京 大阪 京都 横浜 札幌 福岡 神戸 名古屋 仙台 広島 沖縄"
    )
)
_SUFFIXES = frozenset("市省区县都府県州")
_CJK_RUN = re.compile("[\u3040-\u30ff\u4e00-\u9fff]{2,}")
_CJK_MAX = 8


def find_places(
    text: str, gaz: Gazetteer | None = None, runs: Sequence[str] | None = None
) -> Iterator[Entity]:
    """``runs``: the text's capitalised letter runs (``prescreen.traits``), if known."""
    g = gaz or gazetteer()
    caps = traits(text).capital_runs if runs is None else runs
    # A listed place starts with a capitalised (not all-capitals) word that is listed or is
    # the first word of a listed place: a text without one is not walked word by word.
    if any(_may_start(r, g) for r in caps):
        yield from _latin_places(text, g)
    yield from _cjk_places(text, g)


def _may_start(run: str, g: Gazetteer) -> bool:
    word, more = run_word(run)
    return more or ((word in g.places or word in g.place_heads) and not word.isupper())


def _latin_places(text: str, g: Gazetteer) -> Iterator[Entity]:
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


def _cjk_places(text: str, g: Gazetteer) -> Iterator[Entity]:
    """Longest listed name at each position of a CJK run (set look-ups: linear in the run)."""
    for run in _CJK_RUN.finditer(text):
        i, end = run.start(), run.end()
        while i < end - 1:
            for size in range(min(_CJK_MAX, end - i), 1, -1):
                name = text[i : i + size]
                if name in g.cjk_places and (
                    size > 2 or name in _CJK_MAJOR or text[i + size : i + size + 1] in _SUFFIXES
                ):
                    yield Entity(LOCATION, i, i + size, name, 0.55)
                    i += size - 1
                    break
            i += 1
