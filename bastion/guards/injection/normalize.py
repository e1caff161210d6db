"""Normalisation for screening: NFKC, invisible characters out, encoded spans decoded."""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

# Zero-width, bidi-control and other invisible format characters (not the tag block).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")  # subdivision flags
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){8,}(?![0-9A-Fa-f])")
_HEX_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}")
_ENCODED_ALPHABET = re.compile(r"[A-Za-z0-9+/=_\-\s]{16,}")  # decodes to more encoding
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){4,}")
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*]){2,}\w(?!\w)")
_SEPARATOR = re.compile(r"[ .\-_*]")
_ROT13_CUE = re.compile(r"(?i)\b(?:rot-?13|rot 13|caesar|cifrado césar|chiffre de césar)\b")
_WORD = re.compile(r"[A-Za-z]+")
_SEGMENT = re.compile(r"[.:!?;\n\"“”]+")
_LEET = str.maketrans("013457@$", "oieastas")
# ROT13 as a translation table: what the "rot13" codec does, ~5x cheaper per word.
_ROT13 = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM",
)
# Words of letters and leet digits only: hashes and ids (with 2, 6, 8, 9, long runs) are not.
_LEET_WORD = re.compile(
    r"(?<![\w@$])(?=[A-Za-z013457@$]*[A-Za-z])(?=[A-Za-z013457@$]*[013457@$])"
    r"[A-Za-z013457@$]{3,15}(?![\w@$])"
)
#: Every leet word holds one of these: without any, there is no leet word to look for.
_LEET_CHAR = re.compile(r"[013457@$]")
# Frequent English words: ROT13 of ordinary text hits few of them, ROT13-encoded English many.
_COMMON_TEXT = (
    "the an and or to of in on for is are be you your it this that all any with as from "
    "now not do what previous prior above instructions ignore forget rules system prompt tell "
    "me my reveal say print new must will can are secret password"
)
_COMMON = frozenset(_COMMON_TEXT.split())
#: The common words as ROT13 writes them: a word rotates into _COMMON iff it is one of these.
_COMMON_ROTATED = frozenset(w.translate(_ROT13) for w in _COMMON)
# Latin look-alikes from Cyrillic and Greek, applied only inside mixed-script words.
_CONFUSABLES = str.maketrans("аеорсухіјѕԁАВЕКМНОРСТХІЈЅοαερτνικΑΒΕΗΙΚΜΝΟΡΤΧΥΖ",
                             "aeopcyxijsdABEKMHOPCTXIJSoaeptvikABEHIKMNOPTXYZ")  # fmt: skip
_MIXED_PAIR = r"(?:[A-Za-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][A-Za-z])"
_MIXED = re.compile(rf"\w*{_MIXED_PAIR}\w*")
# Whether any word mixes scripts: the pair alone (the \w* around it make a search ~5x slower).
_HAS_MIXED = re.compile(_MIXED_PAIR)


@dataclass(frozen=True, slots=True)
class Normalized:
    """The screened view of a text: ``text`` cleaned; ``decoded`` (kind, text) hidden views."""

    text: str
    decoded: tuple[tuple[str, str], ...]
    hidden_tags: bool

    @property
    def combined(self) -> str:
        return " \n ".join((self.text, *(t for _, t in self.decoded)))


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 6:
        return None
    good = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    letters = sum(ch.isalpha() or ch == " " for ch in text)
    readable = letters / len(text) >= 0.6 or _ENCODED_ALPHABET.fullmatch(text) is not None
    return text if good / len(text) >= 0.95 and readable else None


def _b64(span: str) -> str | None:
    s = span.rstrip("=")
    if len(s) % 4 == 1 or (s.isalpha() and (s.islower() or s.isupper())):
        return None
    try:
        raw = base64.b64decode(
            s + "=" * (-len(s) % 4), altchars=b"-_" if "-" in s or "_" in s else None
        )
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _hex(span: str) -> str | None:
    digits = re.sub(r"[^0-9A-Fa-f]", "", span.replace("\\x", ""))
    if len(digits) % 2:
        return None
    return _printable(bytes.fromhex(digits))


def _rot13(text: str) -> str | None:
    """ROT13 of the segments that read as English only after rotation."""
    decoded = []
    for segment in _SEGMENT.split(text):
        words = [w.lower() for w in _WORD.findall(segment) if len(w) > 1]
        if len(words) < 3:
            continue
        before = sum(w in _COMMON for w in words)
        after = sum(w in _COMMON_ROTATED for w in words)
        if after >= 3 and after > 2 * before:
            decoded.append(segment.translate(_ROT13))
    return " ".join(decoded) or None


def _decode_views(text: str) -> list[tuple[str, str]]:
    views: list[tuple[str, str]] = []
    for kind, pattern, decode in (
        ("base64", _BASE64, _b64),
        ("hex", _HEX, _hex),
        ("hex", _HEX_ESCAPES, _hex),
    ):
        for m in pattern.finditer(text):
            if (decoded := decode(m.group())) is not None:
                views.append((kind, decoded))
    if "%" in text and _PERCENT.search(text):
        views.append(("url", unquote(text)))
    if "&" in text and (unescaped := html.unescape(text)) != text:
        views.append(("html", unescaped))
    if (rotated := _rot13(text)) is not None:
        views.append(("rot13", rotated))
    elif cue := _ROT13_CUE.search(text):
        views.append(("rot13", text[cue.end() :].translate(_ROT13)))
    if _LEET_CHAR.search(text) and len(_LEET_WORD.findall(text)) >= 2:
        # Only the segments that hold leet words: a long text with a stray "v4" or "mp3"
        # would otherwise be searched twice over.
        segments = [s for s in _SEGMENT.split(text) if _LEET_WORD.search(s)]
        views.append(("leet", " ".join(s.translate(_LEET) for s in segments)))
    return views


def normalize(text: str, *, depth: int = 2) -> Normalized:
    """NFKC, strip invisible and tag characters, collapse whitespace, decode hidden views.

    Unicode tag characters outside subdivision flags spell ASCII invisibly; that message
    becomes a decoded view of its own. Decoding recurses ``depth`` levels (base64 of hex…).
    """
    decoded: list[tuple[str, str]] = []
    hidden: list[str] = []
    if not text.isascii():  # NFKC, tags, invisibles and confusables leave ASCII as it is
        text = unicodedata.normalize("NFKC", text)
        hidden = _TAGS.findall(_FLAG_TAGS.sub("", text))
        if hidden:
            smuggled = "".join(chr(ord(c) - 0xE0000) for run in hidden for c in run)
            decoded.append(("unicode_tags", smuggled.strip()))
            text = _TAGS.sub("", text)
        text = _INVISIBLE.sub("", text)
    if spaced := [m.group() for m in _SPACED.finditer(text)]:
        # "i g n o r e  a l l": single separators join letters, double ones part words.
        decoded.append(("spaced", " ".join(_SEPARATOR.sub("", s) for s in spaced)))
    if not text.isascii() and _HAS_MIXED.search(text):
        text = _MIXED.sub(lambda m: m.group().translate(_CONFUSABLES), text)
    text = _collapse(text)
    frontier = [text]
    for _ in range(depth):
        found = [view for t in frontier for view in _decode_views(t)]
        decoded.extend(found)
        frontier = [t for kind, t in found if kind in ("base64", "hex", "url", "html")]
        if not frontier:
            break
    return Normalized(text, tuple((k, _collapse(t)) for k, t in decoded), bool(hidden))


def _collapse(text: str) -> str:
    """Runs of whitespace as one space, none at either end: ``re.sub(r"\\s+", " ", text)
    .strip()``, whose ``\\s`` is ``str.isspace`` (checked on every code point in tests)."""
    return " ".join(text.split())
