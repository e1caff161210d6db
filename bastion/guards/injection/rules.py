"""Weighted rules over the normalised text and its decoded views, combined by noisy-or."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bastion.guards.injection.anchors import fold, split_anchors
from bastion.guards.injection.native import anchor_index
from bastion.guards.injection.normalize import Normalized
from bastion.guards.injection.patterns import PATTERNS, WEIGHTS

# An attack phrase found only after decoding an obfuscated span counts for more.
ENCODED_WEIGHT = 0.5
HIDDEN_TAGS_WEIGHT = 0.5

# Quoted attack phrases in a question about attacks ("what does 'ignore previous
# instructions' mean?") are mentions, not uses: their weight is damped.
MENTION_DAMPING = 0.3
_QUOTED = re.compile(r"[\"“«„`']([^\"”»“`']{6,240})[\"”»“`']")
_META = re.compile(
    r"(?i)\b(?:what does|what is|mean|means|meaning|example|examples|attacks?|attempts?|detect"
    r"|detection|defend|defen[cs]e|protect|prevent|log|logging|classifier|red[- ]team|security"
    r"|injection|jailbreaks?|phrase|term|research|paper|article|why do|how do|how should|trick)\b"
)

_SPLIT = [split_anchors(pattern) for _, _, pattern in PATTERNS]
#: Each pattern with the anchors one of which it needs: folded ones (looked for in a folded
#: view) and case-sensitive ones as written (looked for in the view itself; anchors.py).
_COMPILED: tuple[tuple[str, str, re.Pattern[str], frozenset[str] | None], ...] = tuple(
    (category, lang, re.compile(pattern, re.IGNORECASE), None if s is None else s[0] | s[1])
    for (category, lang, pattern), s in zip(PATTERNS, _SPLIT, strict=True)
)
_ANCHORS: tuple[str, ...] = tuple(sorted({a for s in _SPLIT if s for a in s[0]}))
_EXACT: tuple[str, ...] = tuple(sorted({a for s in _SPLIT if s for a in s[1]}))
#: The patterns (indices into _COMPILED) that need each anchor, and those that need none: a
#: pattern none of whose anchors occurs in any view cannot match, so it is not even visited.
_NEEDED_BY: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        a: tuple(i for i, (*_, found) in enumerate(_COMPILED) if found and a in found)
        for a in (*_ANCHORS, *_EXACT)
    }
)
_UNANCHORED: frozenset[int] = frozenset(i for i, (*_, f) in enumerate(_COMPILED) if f is None)
#: All anchors found in one pass over the text (``_anchor_scan.c``), where it was built.
_INDEX = anchor_index(_ANCHORS)
_EXACT_INDEX = anchor_index(_EXACT)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The rules' combined score in [0, 1] and the names of the rules that fired."""

    score: float
    reasons: tuple[str, ...]


def _name(category: str, lang: str) -> str:
    return category if lang in ("en", "any") else f"{category}:{lang}"


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Quoted spans of ``text``, when the text outside the quotes talks about attacks."""
    spans = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(text)]
    if not spans:
        return []
    outside = _QUOTED.sub(" ", text)
    return spans if _META.search(outside) else []


def present_anchors(view: str) -> frozenset[str]:
    """The rules' anchors that occur in ``view`` (folded ones in its folded form): one pass
    over it in C (``_INDEX``), or one substring test per anchor (:func:`anchors_in`) where
    the extension was not built."""
    folded = fold(view)
    if _INDEX is None or _EXACT_INDEX is None:
        return anchors_in(view, folded)
    return _INDEX.present(folded) | _EXACT_INDEX.present(view)


def anchors_in(view: str, folded: str) -> frozenset[str]:
    """The rules' anchors that occur in ``view``: the reference, one test per anchor."""
    return frozenset(a for a in _ANCHORS if a in folded) | {a for a in _EXACT if a in view}


def score_rules(normalized: Normalized) -> RuleResult:
    """Noisy-or of the strongest match per category, over the text and every decoded view."""
    views = (("text", normalized.text), *normalized.decoded)
    present = [present_anchors(view) for _, view in views]
    quoted = _quoted_spans(normalized.text)
    fired: dict[str, tuple[float, str]] = {}
    encoded: set[str] = set()
    candidates = set(_UNANCHORED).union(*(_NEEDED_BY[a] for found in present for a in found))
    for category, lang, pattern, needs in (_COMPILED[i] for i in sorted(candidates)):
        if category in fired and fired[category][0] >= WEIGHTS[category]:
            continue
        for (kind, view), found in zip(views, present, strict=True):
            if needs is not None and needs.isdisjoint(found):
                continue  # none of the words a match needs: it cannot match (anchors.py)
            if m := pattern.search(view):
                weight = WEIGHTS[category]
                if kind == "text" and any(s <= m.start() and m.end() <= e for s, e in quoted):
                    weight *= MENTION_DAMPING
                fired[category] = (weight, _name(category, lang))
                if kind != "text":
                    encoded.add(kind)
                break
    weights = [w for w, _ in fired.values()]
    reasons = [name for _, name in sorted(fired.values(), reverse=True)]
    if encoded and fired:
        weights.append(ENCODED_WEIGHT)
        reasons.extend(f"encoded:{kind}" for kind in sorted(encoded))
    if normalized.hidden_tags:
        weights.append(HIDDEN_TAGS_WEIGHT)
        reasons.append("hidden_unicode_tags")
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - w
    return RuleResult(1.0 - remaining, tuple(reasons))
