"""What a text can hold, told by cheap whole-text checks, so recognizers that cannot match
are not run.

Each gate is a necessary condition of a recognizer's patterns, so skipping it changes no
result: every date, card, IBAN, SSN, IPv4 address and phone candidate contains a ``\\d``
(a Unicode decimal digit, as the patterns mean it); a street address needs a character
``str.isdigit`` accepts (the address finder's own test); every Latin name and place starts
with a character ``str.isupper`` accepts, and the CJK ones need a kana or ideograph. Most
chat text is lower-case prose, identifiers or code: the gates make its cost a few scans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = re.compile(r"\d")
# The kana and ideograph ranges the CJK name and place recognizers search.
_CJK = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
# A maximal run of letters, with the joiner that ties it to the next letters of the same
# word ("Jean-", "O'", "St."): the first part of every word the name and place
# recognizers read.
_RUN = re.compile(r"[^\W\d_]+(?:['’.-](?=[^\W\d_]))?")
_JOINERS = "'’.-"


@dataclass(frozen=True, slots=True)
class Traits:
    """What the recognizers need of a text: any ``\\d`` digit; any ``str.isdigit``
    character; any kana or ideograph; the letter runs that start with an upper-case letter
    (every Latin name and place starts one)."""

    digit: bool
    isdigit: bool
    cjk: bool
    capital_runs: tuple[str, ...]

    @property
    def capitals(self) -> bool:
        """Whether a name or place can be in the text (False proves none)."""
        return self.cjk or bool(self.capital_runs)


def traits(text: str) -> Traits:
    digit = _DIGIT.search(text) is not None
    # every \d (category Nd) character is str.isdigit; beyond ASCII, superscripts and the
    # like are isdigit and not \d
    isdigit = digit or (not text.isascii() and any(c.isdigit() for c in text))
    cjk = not text.isascii() and _CJK.search(text) is not None
    # islower(): every cased character is lower-case (and there is one), so none is upper.
    runs = () if text.islower() else tuple(r for r in _RUN.findall(text) if r[0].isupper())
    return Traits(digit, isdigit, cjk, runs)


def run_word(run: str) -> tuple[str, bool]:
    """The run without its joiner, and whether the word goes on past it."""
    if run[-1] in _JOINERS:
        return run[:-1], True
    return run, False
