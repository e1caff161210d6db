"""The screen's n-gram hashing without scikit-learn: the same matrices as its
``HashingVectorizer`` (MurmurHash3 x86 32-bit, seed 0, ``alternate_sign=False``,
``norm=None``, lower-cased input) for the two analyzers the screen uses.

Importing scikit-learn's text module brings SciPy's statistics, pandas and pyarrow with it:
about 160 MiB of a server's memory and seconds of start-up, for two hash functions. The
n-gram extraction below follows scikit-learn's ``_char_wb_ngrams`` and ``_word_ngrams``
(BSD-3-Clause); ``tests/guards/test_hashing.py`` checks the matrices are identical.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import mmh3
import numpy as np

from bastion.guards.injection.rows import Rows

_WHITE_SPACES = re.compile(r"\s\s+")
#: Lone surrogates have no UTF-8: mmh3 would read past them (it crashes the process), so
#: they are hashed as U+FFFD (the C path, ``_window_logits.c``, does the same).
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class NgramHasher:
    """Counts of hashed n-grams per text, as ``(len(texts), n_features)`` CSR ``Rows``."""

    analyzer: Literal["char_wb", "word"]
    ngram_range: tuple[int, int]
    n_features: int
    token_pattern: str = r"(?u)\b\w\w+\b"

    def transform(self, texts: Sequence[str]) -> Rows:
        rows: list[Any] = []
        counts: list[Any] = []
        indptr = [0]
        for text in texts:
            grams = self.grams(text)
            hashes = np.fromiter(map(mmh3.hash, grams), dtype=np.int64, count=len(grams))
            # abs() of a signed 32-bit hash, modulo: scikit-learn special-cases -2**31 to
            # (2**31 - n_features) % n_features, the same number.
            index, times = np.unique(np.abs(hashes) % self.n_features, return_counts=True)
            rows.append(index)
            counts.append(times)
            indptr.append(indptr[-1] + len(index))
        return Rows(
            np.concatenate(counts).astype(np.float64) if counts else np.zeros(0),
            np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32),
            np.asarray(indptr, dtype=np.int64),
            (len(texts), self.n_features),
        )

    def grams(self, text: str) -> list[str]:
        """The n-grams of ``text`` (lower-cased first, lone surrogates as U+FFFD), repeats
        included, in order."""
        text = text.lower()
        if not text.isascii():
            text = _SURROGATE.sub("\ufffd", text)
        if self.analyzer == "char_wb":
            return _char_wb_ngrams(text, *self.ngram_range)
        return _word_ngrams(re.findall(self.token_pattern, text), *self.ngram_range)


def _char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    grams: list[str] = []
    append = grams.append
    for word in _WHITE_SPACES.sub(" ", text).split():
        w = " " + word + " "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(w[offset : offset + n])
            while offset + n < w_len:
                offset += 1
                append(w[offset : offset + n])
            if offset == 0:  # a short word (w_len < n) counts once
                break
    return grams


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    if max_n == 1:
        return tokens
    grams = list(tokens) if min_n == 1 else []
    first = max(min_n, 2)
    for n in range(first, min(max_n + 1, len(tokens) + 1)):
        for i in range(len(tokens) - n + 1):
            grams.append(" ".join(tokens[i : i + n]))
    return grams
