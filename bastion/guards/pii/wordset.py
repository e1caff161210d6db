"""A read-only set of words held compactly: one string and two integer arrays.

A ``frozenset`` of the gazetteer's ~190,000 names costs a Python object per name (≈ 57
bytes) and a hash table of pointers: ≈ 19 MiB in all. ``WordSet`` keeps the words in one
``\\n``-separated string (≈ 1 byte per character), their start offsets in an
``array('I')``, and an open-addressing table of word numbers (``array("i")``, load ≤ 0.3)
keyed by Python's own string hash: ≈ 4 MiB for the same lists. Membership is exact (a hit
is confirmed by comparing the characters), so every answer equals the frozenset's.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_SEP = "\n"
_MAX_LOAD = 0.3


@dataclass(frozen=True, slots=True, eq=False)
class WordSet:
    """``word in words``, as for a frozenset of the same words (none may contain ``\\n``)."""

    _text: str
    #: ``_starts[k]`` is where word ``k`` begins in ``_text``; one more entry ends the last.
    _starts: array[int]
    #: Open addressing by ``hash(word)``: 0 is empty, ``k + 1`` is word ``k``.
    _table: array[int]
    _mask: int

    @classmethod
    def of(cls, words: Iterable[str]) -> WordSet:
        unique = sorted(set(words))
        if any(_SEP in w for w in unique):
            raise ValueError("a WordSet word may not contain a newline")
        size = 8
        while size * _MAX_LOAD < len(unique):
            size *= 2
        mask = size - 1
        table = array("i", bytes(4 * size))
        starts = array("I")
        pos = 0
        for k, word in enumerate(unique):
            starts.append(pos)
            pos += len(word) + 1
            i = hash(word) & mask
            while table[i]:
                i = (i + 1) & mask
            table[i] = k + 1
        starts.append(pos)
        text = _SEP.join(unique) + _SEP if unique else ""
        return cls(text, starts, table, mask)

    def __contains__(self, word: str) -> bool:
        table, mask = self._table, self._mask
        i = hash(word) & mask
        k = table[i]
        while k:  # most misses end at the first slot (load ≤ 0.3)
            starts = self._starts
            start = starts[k - 1]
            if starts[k] - start == len(word) + 1 and self._text.startswith(word, start):
                return True
            i = (i + 1) & mask
            k = table[i]
        return False

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __iter__(self) -> Iterator[str]:
        return iter(self._text.split(_SEP)[:-1])
