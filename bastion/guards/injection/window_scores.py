"""The n-gram model's window logits without SciPy: the same float64s, bit for bit.

A text's windows were scored with sparse matrices: a CSR of hashed counts per piece, a 0/1
matrix summing pieces into windows, a row normalisation and a product with the weights. For
a chat message of one piece that cost ~0.5 ms, nearly all of it building SciPy objects
around a few dozen numbers. Here small inputs are summed in plain Python, larger ones in a
fixed number of numpy calls for all windows at once (plus one short sum per window).

The arithmetic is SciPy's, in SciPy's order, so the probabilities are identical (checked on
every labelled text by ``tests/guards/test_window_scores.py``): ``csr_matmat`` emits a row's
columns in reverse order of their first appearance and ``csr_matvec`` sums a row's products
``(count * scale) * weight`` one after the other from 0.0 (``np.cumsum`` is sequential too);
counts and their squares are small integers, exact in any order; ``1 / sqrt`` is correctly
rounded in both.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from typing import Any

import mmh3
import numpy as np

from bastion.guards.injection.hashing import NgramHasher

#: Up to this many n-grams in all (both analyzers, every piece) the Python path is cheaper.
PYTHON_UP_TO = 200


def window_logits(
    hashers: tuple[NgramHasher, NgramHasher],
    weights: Any,
    bias: float,
    parts: Sequence[str],
    groups: Sequence[Sequence[int]],
) -> Any:
    """``features(group) · weights + bias`` per group of ``parts``; ``weights`` holds one
    half per hasher, each half's features l2-normalised, as ``ngram.py`` trained them."""
    grams = [[h.grams(p) for p in parts] for h in hashers]
    if sum(len(g) for half in grams for g in half) <= PYTHON_UP_TO:
        return _python(hashers, grams, weights, bias, groups)
    return _numpy(hashers, grams, weights, bias, groups)


def _python(
    hashers: tuple[NgramHasher, NgramHasher],
    grams: list[list[list[str]]],
    weights: Any,
    bias: float,
    groups: Sequence[Sequence[int]],
) -> Any:
    halves = []
    for h, (hasher, per_part) in enumerate(zip(hashers, grams, strict=True)):
        n, offset = hasher.n_features, h * hasher.n_features
        rows = []
        for part in per_part:
            counter = Counter(abs(x) % n + offset for x in map(mmh3.hash, part))
            rows.append(sorted(counter.items()))
        halves.append([_dot([rows[j] for j in g], weights) for g in groups])
    return np.asarray([c + w + bias for c, w in zip(*halves, strict=True)], dtype=np.float64)


def _dot(members: list[list[tuple[int, int]]], weights: Any) -> float:
    summed: dict[int, int] = {}
    get = summed.get
    for row in members:
        for slot, count in row:
            summed[slot] = get(slot, 0) + count
    if not summed:
        return 0.0
    scale = 1.0 / math.sqrt(sum(c * c for c in summed.values()))
    order = list(reversed(summed))
    total = 0.0
    for slot, weight in zip(order, weights[order].tolist(), strict=True):
        total += (summed[slot] * scale) * weight
    return total


def _numpy(
    hashers: tuple[NgramHasher, NgramHasher],
    grams: list[list[list[str]]],
    weights: Any,
    bias: float,
    groups: Sequence[Sequence[int]],
) -> Any:
    members = np.fromiter(chain.from_iterable(groups), dtype=np.int64)
    member_group = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    slots, counts, units = [], [], []
    for h, (hasher, per_part) in enumerate(zip(hashers, grams, strict=True)):
        slot, count, indptr = _rows(hasher, per_part, h * hasher.n_features)
        starts = indptr[members]
        lengths = indptr[members + 1] - starts
        ends = np.cumsum(lengths)
        index = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            starts - ends + lengths, lengths
        )
        slots.append(slot[index])
        counts.append(count[index])
        units.append(np.repeat(member_group + h * len(groups), lengths))
    slot, count, unit = np.concatenate(slots), np.concatenate(counts), np.concatenate(units)
    if not len(slot):
        return np.zeros(len(groups)) + bias
    # one entry per (unit, slot), at its first position; then in reverse order of position
    width = 2 * max(h.n_features for h in hashers)
    key = unit * width + slot
    order = np.argsort(key, kind="stable")
    runs = np.flatnonzero(np.r_[True, np.diff(key[order]) != 0])
    first = order[runs]
    summed = np.add.reduceat(count[order], runs) if len(runs) else np.zeros(0)
    back = np.argsort(-first)
    data, unit, slot = summed[back], unit[first[back]], slot[first[back]]
    units_n = 2 * len(groups)
    squares = np.bincount(unit, weights=data * data, minlength=units_n)
    with np.errstate(divide="ignore"):
        scale = np.where(squares > 0, 1.0 / np.sqrt(squares), 0.0)
    products = (data * scale[unit]) * weights[slot].astype(np.float64)
    edges = np.flatnonzero(np.r_[True, np.diff(unit) != 0, True])
    sums = np.zeros(units_n)
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        sums[unit[a]] = np.cumsum(products[a:b])[-1]  # sequential, as csr_matvec's loop
    return (sums[: len(groups)] + sums[len(groups) :]) + bias


def _rows(hasher: NgramHasher, per_part: list[list[str]], offset: int) -> tuple[Any, Any, Any]:
    """Each part's distinct slots (ascending, plus ``offset``) and counts, CSR-style."""
    n = hasher.n_features
    lengths = [len(g) for g in per_part]
    hashes = np.fromiter(
        map(mmh3.hash, chain.from_iterable(per_part)), dtype=np.int64, count=sum(lengths)
    )
    part = np.repeat(np.arange(len(per_part), dtype=np.int64), lengths)
    keys, counts = np.unique(part * n + np.abs(hashes) % n, return_counts=True)
    indptr = np.searchsorted(keys // n, np.arange(len(per_part) + 1))
    return keys % n + offset, counts.astype(np.float64), indptr
