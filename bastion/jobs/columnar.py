"""The columnar path of a tabular job: an Arrow chunk → one float matrix → calls of it.

When a job's deployment takes an object of named numbers (``contracts/numeric.py``) and the
chunk was read as Arrow columns (a Parquet file) holding exactly those columns as numbers,
the chunk becomes one ``float64`` matrix in the contract's column order. One vectorised
pass splits its rows:

- certainly valid (every cell present, finite, exact as a float, within the contract's
  bounds): scored as ``FeatureRows`` calls, no dict per row (``core/columns.py``);
- anything else (a null, NaN, an out-of-range value): the row path, as dicts, exactly as
  before, so its verdict, reason code, error file and quarantine are unchanged.

Anything the plan cannot vouch for (a data contract on the deployment, a gateway group, a
backfill's wrapped inputs, another column set or a non-numeric column) sends the whole
chunk down the row path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bastion.contracts.numeric import NumericRecords
from bastion.core.columns import FeatureRows
from bastion.errors import BastionError
from bastion.routing import DeploymentManager


class PlannedJob(Protocol):
    """What the plan reads of a job (a stored ``Job``, or one about to be created)."""

    @property
    def deployment(self) -> str: ...

    @property
    def version(self) -> int | None: ...

    @property
    def options(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class JobDraft:
    """A job before it is stored: enough for the plan to choose its chunk size."""

    deployment: str
    version: int | None
    options: dict[str, Any]


# (job) → the contract's whole-batch check when its chunks may take the columnar path
ColumnPlan = Callable[[PlannedJob], NumericRecords | None]


@dataclass(frozen=True, slots=True)
class ColumnSplit:
    """One chunk's rows split: ``good`` (positions in the chunk) as ``rows``; ``bad``."""

    good: np.ndarray[Any, Any]
    rows: FeatureRows
    bad: np.ndarray[Any, Any]


class _Names(Protocol):
    def __contains__(self, name: str, /) -> bool: ...


def column_plan(
    deployments: DeploymentManager, contracts: _Names | None, gateway: Container[str]
) -> ColumnPlan:
    """The plan of a server: ``contracts`` are the deployments with a data contract."""

    def plan(job: PlannedJob) -> NumericRecords | None:
        name = job.deployment
        if job.options.get("input_field") or name in gateway:
            return None  # a backfill's rows wrap their input; a gateway group takes JSON
        if contracts is not None and name in contracts:
            return None  # the data contract's rules read each row (and fill the quarantine)
        with contextlib.suppress(BastionError):
            loaded = deployments.get(name).live()
            if job.version is None or job.version == loaded.version:
                return loaded.contract.numeric_inputs
        return None

    return plan


def split_columns(table: Any, records: NumericRecords) -> ColumnSplit | None:
    """The rows of ``table`` (an Arrow table) split for the columnar path, or None."""
    import pyarrow as pa

    names = records.names
    if len(table.column_names) != len(names) or set(table.column_names) != set(names):
        return None  # a missing or extra column: the contract words it, row by row
    columns = []
    for name in names:
        column = table.column(name)
        kind = column.type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            return None  # strings, booleans, decimals, nested values: the row path
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False))
    ok = records.valid_columns(columns)  # on the file's own columns, before any copy
    good = np.flatnonzero(ok)
    kept = np.empty((len(good), len(columns)), dtype=np.float64)  # one row-major copy
    for j, column in enumerate(columns):
        kept[:, j] = column if len(good) == len(ok) else column[good]
    rows = records.certify(FeatureRows(names, kept))
    return ColumnSplit(good, rows, np.flatnonzero(~ok))


@dataclass(frozen=True, slots=True)
class StoredInput:
    """Where a chunk's rows come from: the job's stored input (its sha256, taken as it was
    uploaded) and the chunk's first row in it."""

    sha256: str
    first_row: int


def prepare_columns(
    table: Any, records: NumericRecords, call_rows: int, source: StoredInput | None = None
) -> tuple[ColumnSplit, list[FeatureRows]] | None:
    """``split_columns`` and the good rows cut into calls of ``call_rows``, each call's
    audit form made now: with ``source``, the stored input's sha256 and the call's rows in
    it (``FeatureRows.cite``); without (a job created before inputs were hashed at upload),
    the sha256 of the call's matrix (``FeatureRows.canonical``, in this worker thread:
    numpy, Arrow and hashlib release the GIL)."""
    split = split_columns(table, records)
    if split is None:
        return None
    calls = [split.rows.rows(i, i + call_rows) for i in range(0, len(split.good), call_rows)]
    for i, call in enumerate(calls):
        if source is None:
            call.canonical()
        else:
            start = i * call_rows
            call.cite(source.sha256, split.good[start : start + call_rows] + source.first_row)
    return split, calls
