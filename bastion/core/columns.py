"""Tabular rows held as one float matrix: the columnar form of a batch job's call inputs.

A batch job reads a Parquet file as Arrow columns; turning each row into a dict of floats
(for the pipeline) and back into a float32 row (for the model) is most of a tabular job's
cost. ``FeatureRows`` keeps the rows as one ``float64`` matrix whose columns are the
contract's feature names, in the contract's order, and still *is* a sequence of dicts: a
stage that does not know the columnar form reads ``call.inputs[i]`` and gets exactly the
dict the row path would have given it (built on demand, then kept). Stages that know the
form (the input contract, the audit record, a ``MatrixBackend``) read ``matrix`` instead.

``Canonical`` is what the audit stage asks of a columnar batch (inputs or predictions): its
own canonical bytes, made in one pass over the matrix instead of one JSON object per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, overload, runtime_checkable

import numpy as np
import orjson


@runtime_checkable
class Canonical(Protocol):
    """A batch that writes its own canonical JSON (deterministic bytes, hashed by audit)."""

    def canonical(self) -> bytes: ...


class FeatureRows(Sequence[dict[str, Any]]):
    """Rows of named numbers as one ``float64`` matrix (rows × ``names``); see the module."""

    __slots__ = ("_canonical", "_dicts", "checked_by", "matrix", "names")

    def __init__(self, names: Sequence[str], matrix: np.ndarray[Any, Any]) -> None:
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ValueError(f"a {matrix.shape} matrix for {len(names)} feature names")
        self.names: tuple[str, ...] = tuple(names)
        self.matrix: np.ndarray[Any, np.dtype[np.float64]] = np.ascontiguousarray(
            matrix, dtype=np.float64
        )
        self._dicts: list[dict[str, Any]] | None = None
        self._canonical: bytes | None = None  # the matrix is never changed: made once
        # the whole-batch check that found every row valid (contracts/numeric.py), if any:
        # the input contract's stage then need not compute it again
        self.checked_by: object | None = None

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.dicts()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.dicts())

    def dicts(self) -> list[dict[str, Any]]:
        """Every row as the dict the row path would hold (once, on first use)."""
        if self._dicts is None:
            names = self.names
            self._dicts = [dict(zip(names, row, strict=True)) for row in self.matrix.tolist()]
        return self._dicts

    def take(self, rows: Sequence[int] | np.ndarray[Any, Any]) -> FeatureRows:
        return FeatureRows(self.names, self.matrix[np.asarray(rows, dtype=np.intp)])

    def rows(self, start: int, stop: int) -> FeatureRows:
        """Rows ``start`` … ``stop - 1`` (a view of the same matrix, no copy)."""
        part = FeatureRows(self.names, self.matrix[start:stop])
        part.checked_by = self.checked_by
        return part

    def float32(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The matrix as a model takes it (the row path's ``np.asarray(rows, float32)``)."""
        with np.errstate(over="ignore"):
            return self.matrix.astype(np.float32)

    def canonical(self) -> bytes:
        """The batch's canonical JSON for the audit record: its column names, its shape and
        the sha256 of the matrix's bytes (little-endian float64, row-major) — the rows are
        hashed as bytes, not written out as text (they stay in the job's stored input).
        Made once: a job makes it in a worker thread before the call (hashlib releases the
        GIL), so the audit stage finds it ready."""
        if self._canonical is not None:
            return self._canonical
        data = np.ascontiguousarray(self.matrix, dtype="<f8")
        doc = {
            "columns": list(self.names),
            "dtype": "float64-le",
            "shape": list(self.matrix.shape),
            "sha256": hashlib.sha256(data.data.cast("B")).hexdigest(),  # no copy
        }
        self._canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        return self._canonical

    def cite(self, input_sha256: str, rows: np.ndarray[Any, Any]) -> bytes:
        """The canonical JSON of rows that were read from a stored file: the file's sha256
        and which of its rows these are (``rows``: their 0-based positions, ascending, as
        ``[start, stop)`` runs), instead of a hash of the matrix. The file's bytes fix the
        values (the rows are read from it, in the contract's column order, as float64), so
        this names exactly the same inputs as ``canonical`` does, without reading a matrix
        of 240 bytes a row again to hash it. Kept as the batch's canonical form."""
        positions = np.asarray(rows, dtype=np.int64)
        breaks = np.flatnonzero(np.diff(positions) != 1) + 1
        starts = positions[np.r_[0, breaks]] if len(positions) else positions
        stops = (
            positions[np.r_[breaks - 1, len(positions) - 1]] + 1 if len(positions) else positions
        )
        doc = {
            "columns": list(self.names),
            "dtype": "float64-le",
            "input_sha256": input_sha256,
            "rows": [
                [int(a), int(b)] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
            ],
            "shape": list(self.matrix.shape),
        }
        self._canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        return self._canonical

    def __repr__(self) -> str:
        return f"FeatureRows({len(self)} rows × {len(self.names)} features)"
