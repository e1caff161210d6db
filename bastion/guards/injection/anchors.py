"""Literal anchors of a rule pattern: strings one of which every match must contain.

The screen runs ~80 case-insensitive patterns over each text and its decoded views; Python's
``re`` tries each at every position, so the rules cost ~0.5 ms per 100 characters. But every
pattern here needs some literal word ("ignore", "instructions", "système", …), and a
substring test is ~100× cheaper than a search. So a pattern is searched only in a view that
contains one of its anchors; a view without any is skipped, and its verdict is unchanged,
because the anchors are a necessary condition for a match (tests check it on every labelled
text).

Anchors are read from the parsed pattern: a run of literals in a sequence, the union over
the alternatives of a branch, a group's anchors, a repeat's if it repeats at least once; the
candidate with the longest shortest member wins. Zero-width items (``\\b``, ``^``) do not break
a run; anything else (a class, a dot) does. Matching is case-insensitive, so anchors and
texts are compared folded (:func:`fold`).
"""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]  # the stdlib's parser, no stubs
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable
from typing import Any

# Under re.IGNORECASE, "i" also matches the Turkish dotted and dotless i, whose case folds
# are not "i"; folding them to "i" first keeps the anchors a necessary condition.
_TURKISH_I = str.maketrans({"\u0130": "i", "\u0131": "i"})
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def fold(text: str) -> str:
    """``text`` as anchors are compared with it: case-folded."""
    return text.translate(_TURKISH_I).casefold()


def anchors(pattern: str, flags: int = re.IGNORECASE) -> frozenset[str] | None:
    """Folded strings one of which every match of ``pattern`` contains, or None if there is
    no such set (the pattern must then be searched everywhere)."""
    split = split_anchors(pattern, flags)
    return None if split is None else split[0] | frozenset(fold(a) for a in split[1])


def split_anchors(
    pattern: str, flags: int = re.IGNORECASE
) -> tuple[frozenset[str], frozenset[str]] | None:
    """:func:`anchors` in two parts: folded strings (to look for in a folded text), and the
    literals of case-sensitive groups (``(?-i:DAN)``) as written, to look for in the text
    itself (``DAN`` is in "DAN mode", not in "guidance"); None if there is no such set."""
    found = _required(sre_parse.parse(pattern, flags), bool(flags & re.IGNORECASE))
    if not found:
        return None
    folded = frozenset(fold(a) for a, exact in found if not exact)
    return folded, frozenset(a for a, exact in found if exact)


_Anchor = tuple[str, bool]  # a literal, and whether it is matched case-sensitively


def _better(best: set[_Anchor] | None, candidate: set[_Anchor] | None) -> set[_Anchor] | None:
    if not candidate or any(not a for a, _ in candidate):
        return best
    if best is None:
        return candidate
    shortest = min(len(a) for a, _ in candidate)
    best_shortest = min(len(a) for a, _ in best)
    if shortest > best_shortest or (shortest == best_shortest and len(candidate) < len(best)):
        return candidate
    return best


def _required(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> set[_Anchor] | None:
    best: set[_Anchor] | None = None
    run: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL:
            run.append(chr(arg))
            continue
        if op is sre.AT:  # zero-width: the literals on either side stay adjacent
            continue
        if run:
            best = _better(best, {("".join(run), not ignorecase)})
            run = []
        if op is sre.BRANCH:
            options = [_required(branch, ignorecase) for branch in arg[1]]
            if all(options):
                best = _better(best, set().union(*(o for o in options if o)))
        elif op is sre.SUBPATTERN:  # (group, add_flags, del_flags, items)
            inner = (ignorecase or bool(arg[1] & sre.SRE_FLAG_IGNORECASE)) and not (
                arg[2] & sre.SRE_FLAG_IGNORECASE
            )
            best = _better(best, _required(arg[-1], inner))
        elif op is sre.ATOMIC_GROUP:
            best = _better(best, _required(arg, ignorecase))
        elif op in _REPEATS and arg[0] >= 1:
            best = _better(best, _required(arg[2], ignorecase))
    if run:
        best = _better(best, {("".join(run), not ignorecase)})
    return best
