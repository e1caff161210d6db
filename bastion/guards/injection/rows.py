"""Sparse rows of n-gram counts in numpy: the two sums the screen needs, without SciPy.

SciPy's sparse module costs a server ~20 MiB when the screen first scores a new text, for
two operations: summing pieces' rows into windows (``grouping @ counts``) and a row-by-
vector product (``rows @ weights``). Both are done here in the order SciPy's CSR kernels
(``csr_matmat``, ``csr_matvec``) use, so the floating-point results are bit-identical:
a window's columns come in reverse order of first appearance, and a row's dot product is
one left-to-right sum from 0.0 (``tests/guards/test_rows.py`` compares both with SciPy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Rows:
    """A CSR matrix's three arrays and its shape (float64 data, sorted or not)."""

    data: Any
    indices: Any
    indptr: Any
    shape: tuple[int, int]

    def to_scipy(self) -> Any:
        """The same matrix as SciPy CSR (for training, where SciPy is loaded anyway)."""
        from scipy.sparse import csr_matrix

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def group_sums(groups: Sequence[Sequence[int]], counts: Rows) -> Rows:
    """Row ``g`` sums the rows of ``counts`` listed in ``groups[g]`` (as SciPy's product of
    a 0/1 grouping matrix with ``counts``: same values, same column order)."""
    columns = counts.shape[1]
    flat = np.fromiter((j for g in groups for j in g), dtype=np.int64)
    owner = np.repeat(np.arange(len(groups), dtype=np.int64), [len(g) for g in groups])
    starts = counts.indptr[flat].astype(np.int64)
    lengths = counts.indptr[flat + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    # the positions in ``counts`` of every entry of every listed row, in group order
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    rows = np.repeat(owner, lengths)
    keys = rows * columns + counts.indices[offsets].astype(np.int64)
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    # counts are whole numbers: their float64 sums are exact in any order
    sums = np.bincount(inverse.ravel(), weights=counts.data[offsets], minlength=len(unique))
    group_of = unique // columns
    order = np.lexsort((-first, group_of))  # per group, last-seen column first
    indptr = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(np.bincount(group_of, minlength=len(groups)), out=indptr[1:])
    return Rows(
        sums[order].astype(np.float64),
        (unique % columns)[order].astype(np.int32),
        indptr,
        (len(groups), columns),
    )


def dot(rows: Rows, vector: Any) -> Any:
    """``rows @ vector`` in float64, each row summed left to right from 0.0 (as SciPy)."""
    products = rows.data * np.asarray(vector, dtype=np.float64)[rows.indices]
    lengths = np.diff(rows.indptr)
    out = np.zeros(rows.shape[0], dtype=np.float64)
    first = 0
    while first < rows.shape[0]:  # a block of rows at a time: bounded scratch memory
        width = int(lengths[first:].max(initial=0))
        last = min(rows.shape[0], first + max(1, _BLOCK // (width + 1)))
        out[first:last] = _row_sums(products, rows.indptr[first : last + 1], width)
        first = last
    return out


_BLOCK = 1 << 20  # scratch float64s per block (8 MiB)


def _row_sums(products: Any, indptr: Any, width: int) -> Any:
    # one line per row: 0.0, then its products, then zeros (x + 0.0 == x, and a sum begun
    # at +0.0 is never -0.0); cumsum along a line adds strictly left to right
    n = len(indptr) - 1
    lengths = np.diff(indptr)
    padded = np.zeros((n, width + 1), dtype=np.float64)
    within = np.arange(int(indptr[0]), int(indptr[-1])) - np.repeat(indptr[:-1], lengths)
    padded[np.repeat(np.arange(n), lengths), within + 1] = products[indptr[0] : indptr[-1]]
    return np.cumsum(padded, axis=1)[:, -1]
