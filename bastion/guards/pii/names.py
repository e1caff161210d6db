"""Person names without cue words: first + last names from the shipped lists, and CJK names.

Latin script: a known first name followed by a surname ("Anna Kowalska", "Jonathan D.
Meyer", "María García López", "Pieter van den Berg"), or surname-first ("Kowalska Anna").
A first name that is also an ordinary word ("Will", "Mark", "Grace") needs a surname from
the list; an unambiguous first name accepts any capitalised word that is not an ordinary
word. Chinese: a common surname and one or two characters, next to a cue or title; Japanese:
a common surname, a given name and/or an honorific (さん, 様, 氏, 先生).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

from bastion.guards.pii.entity import NAME, Entity
from bastion.guards.pii.gazetteer import Gazetteer, gazetteer
from bastion.guards.pii.gazetteer import words as _words
from bastion.guards.pii.prescreen import run_word, traits

_WORD = re.compile(r"[A-Z]\.|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_PARTICLES = frozenset(
    _words("van von de der den da di del della dos das du le la ter ten bin al el zu mac")
)
_INITIAL = re.compile(r"[A-Z]\.")


def _cap(token: str) -> bool:
    return token[0].isupper() and not token.isupper()


def find_gazetteer_names(
    text: str, gaz: Gazetteer | None = None, runs: Sequence[str] | None = None
) -> Iterator[Entity]:
    """``runs``: the text's capitalised letter runs (``prescreen.traits``), if known."""
    g = gaz or gazetteer()
    caps = traits(text).capital_runs if runs is None else runs
    # Every name found below starts with a capitalised listed first name (or a case form of
    # one) or a listed surname: a text without one is not walked word by word.
    if any(_may_start(r, g) for r in caps):
        yield from _first_name_first(text, g)
    if any(_may_be_alone(r, g) for r in caps):
        yield from _first_name_alone(text, g)


def _may_start(run: str, g: Gazetteer) -> bool:
    word, more = run_word(run)
    return more or (_cap(word) and _listed(word, g))


def _may_be_alone(run: str, g: Gazetteer) -> bool:
    return run_word(run)[0] in g.first  # "ask Sarah": the name is a whole letter run


def _listed(tok: str, g: Gazetteer) -> bool:
    return tok in g.first or tok in g.first_ambiguous or tok in g.last or _declined(tok, g) != ""


def _first_name_first(text: str, g: Gazetteer) -> Iterator[Entity]:
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    i, n = 0, len(words)
    while i < n:
        start, end, tok = words[i]
        if not _cap(tok):
            i += 1
            continue
        if tok not in g.first and tok not in g.first_ambiguous:
            tok = _declined(tok, g)  # "Łukaszowi", "Annę": a Slavic case form
            if not tok:
                i += 1
                continue
        j = i + 1
        if j < n and _INITIAL.fullmatch(words[j][2]) and _adjacent(text, words[j - 1], words[j]):
            j += 1  # a middle initial
        k = j
        while k < n and words[k][2] in _PARTICLES and _adjacent(text, words[k - 1], words[k]):
            k += 1
        last = _surname(text, words, k, g, strict=tok not in g.first)
        if last is None:
            i += 1
            continue
        end = last
        # A second surname ("García López") or a hyphen-joined one.
        if end + 1 < n and _surname(text, words, end + 1, g, strict=True) is not None:
            end += 1
        value = text[start : words[end][1]]
        if value not in g.places:  # "Den Haag", "San Jose" are places
            yield Entity(NAME, start, words[end][1], value, 0.7)
        i = end + 1
    yield from _surname_first(text, words, g)


# Case endings of Polish (and other Slavic) first names: dative -owi, instrumental -em/-ą,
# accusative -ę, genitive -a/-y, locative -ie/-u; "Annie" and "Annę" come from "Anna".
_ENDINGS = ("owi", "em", "ie", "ą", "ę", "a", "y", "u", "i")


def _declined(tok: str, g: Gazetteer) -> str:
    """The listed (unambiguous) first name ``tok`` is a case form of, or ""."""
    for ending in _ENDINGS:
        if tok.endswith(ending) and len(tok) - len(ending) >= 3:
            stem = tok[: -len(ending)]
            for base in (stem, stem + "a"):
                if base in g.first:
                    return base
    return ""


def _surname(
    text: str, words: list[tuple[int, int, str]], k: int, g: Gazetteer, *, strict: bool
) -> int | None:
    """Index of the surname at ``k`` if it is one (adjacent, capitalised, listed or unlisted
    but not an ordinary word unless ``strict``)."""
    if k >= len(words) or not _adjacent(text, words[k - 1], words[k]):
        return None
    tok = words[k][2]
    if not _cap(tok) or tok.lower() in _COMMON:
        return None
    if tok in g.last:
        return k
    if tok in g.last_ambiguous:  # "Marcus Bell", not "Grace Park"
        return None if strict else k
    if tok in g.first_ambiguous:
        return None
    if strict or tok in g.places or tok.lower() in _COMMON:
        return None
    return k


# A first name on its own counts next to a verb only people do: "ask Sarah", "Sarah said".
_ALONE = re.compile(
    r"\b(?:[Aa]sk|[Tt]ell|[Cc]all|[Ee]mail|[Cc]c|[Pp]ing|[Cc]ontact|[Tt]hank|[Tt]hanks|[Hh]ey|"
    r"[Ff]orward (?:it|this) to|[Ss]poke (?:to|with)|[Mm]et (?:with )?)"
    r" (?P<a>[A-Z][a-zà-öø-ÿ]+)\b(?! [A-Z])"
    r"|\b(?P<b>[A-Z][a-zà-öø-ÿ]+) (?:said|says|wrote|writes|called|asked|replied|mentioned|told|"
    r"agreed|sagte|schrieb|a dit|a écrit|dijo|escribió|ha detto|ha scritto|zei|schreef|"
    r"powiedział|powiedziała|napisał|napisała)\b"
)


def _first_name_alone(text: str, g: Gazetteer) -> Iterator[Entity]:
    for m in _ALONE.finditer(text):
        group = "a" if m.group("a") else "b"
        name = m.group(group)
        if name in g.first and name not in g.places and name not in g.last_ambiguous:
            yield Entity(NAME, m.start(group), m.end(group), name, 0.6)


def _surname_first(text: str, words: list[tuple[int, int, str]], g: Gazetteer) -> Iterator[Entity]:
    """ "Kowalska Anna", "Tanaka Hiroshi": a listed surname, then a listed first name, with
    the surname not itself a first name (otherwise the first-name scan found it)."""
    for a, b in itertools.pairwise(words):
        if (
            _cap(a[2])
            and _cap(b[2])
            and a[2] in g.last
            and a[2] not in g.first
            and b[2] in g.first
            and _adjacent(text, a, b)
        ):
            yield Entity(NAME, a[0], b[1], text[a[0] : b[1]], 0.65)


def _adjacent(text: str, a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    gap = text[a[1] : b[0]]
    return gap in (" ", "-")


# Ordinary capitalised words that often follow a first name in titles and headings.
_COMMON = frozenset(
    _words(
        "street road avenue lane square station airport hospital university school bank hotel "
        "church park bridge center centre group company corp inc ltd gmbh team office"
    )
)  # fmt: skip

_CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤"
)
_CN_COMPOUND = "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|令狐"
_HAN = "[\u4e00-\u9fff]"
_CN_BEFORE = (
    r"(?:我叫|名叫|叫做|姓名[:：]?\s*|联系人[:：]?\s*|收件人[:：]?\s*|收货人[:：]?\s*|客户|患者|"
    r"申请人[:：]?\s*|员工|同事|经理|老板|先生|女士|请|让|给|和|与|跟|向|把|找|告诉|通知|联系)"
)
_CN_AFTER = (
    r"(?=先生|女士|小姐|老师|医生|经理|同学|教授|总监|主任|律师|说|的|是|在|已|将|会|要|来|去|"
    r"打|发|给|和|与|明天|昨天|今天|负责|[，。、；！？,.;!?\s]|$)"
)
_CN_NAME = re.compile(
    rf"{_CN_BEFORE}(?P<n>(?:{_CN_COMPOUND}|[{_CN_SURNAMES}]){_HAN}{{1,2}}?){_CN_AFTER}"
    rf"|(?P<t>(?:{_CN_COMPOUND}|[{_CN_SURNAMES}]){_HAN}{{1,2}}?)"
    r"(?=先生|女士|小姐|老师|医生|经理|教授)"
)
_ANY_CJK = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
_JP_SURNAMES = (
    "佐藤|鈴木|高橋|田中|伊藤|渡辺|渡邊|山本|中村|小林|加藤|吉田|山田|佐々木|山口|松本|井上|木村|"
    "斎藤|斉藤|清水|山崎|池田|橋本|阿部|石川|山下|中島|石井|小川|前田|岡田|長谷川|藤田|後藤|近藤|"
    "村上|遠藤|青木|坂本|福田|太田|西村|藤井|金子|岡本|藤原|中野|三浦|原田|中川|松田|竹内|小野|"
    "田村|中山|和田|石田|森田|上田|柴田|酒井|工藤|横山|宮崎|宮本|内田|高木|安藤|島田|谷口|大野|"
    "高田|丸山|今井|河野|藤本|村田|武田|上野|杉山|増田|小山|大塚|平野|菅原|久保|松井|千葉|岩崎|"
    "桜井|木下|野口|松尾|菊地|野村|新井|渡部|林|森|原|西田|菅野|大西"
)
_JP_GIVEN = "[\u4e00-\u9fff\u3040-\u309f\u30a0-\u30ff]{1,3}"
_JP_HONORIFIC = "さん|様|さま|氏|先生|くん|君|殿|ちゃん"
_JP_NAME = re.compile(
    rf"(?:{_JP_SURNAMES})[ 　]?(?:{_JP_GIVEN}?(?={_JP_HONORIFIC})|"
    rf"[\u4e00-\u9fff]{{1,2}}(?:[\u3040-\u309f]{{0,2}})(?={_JP_HONORIFIC}|[はがをにのとも、。]|\s|$))"
)


def find_cjk_names(text: str) -> Iterator[Entity]:
    if not _ANY_CJK.search(text):
        return
    for m in _CN_NAME.finditer(text):
        group = "n" if m.group("n") else "t"
        yield Entity(NAME, m.start(group), m.end(group), m.group(group), 0.6)
    for m in _JP_NAME.finditer(text):
        yield Entity(NAME, m.start(), m.end(), m.group(), 0.65)
