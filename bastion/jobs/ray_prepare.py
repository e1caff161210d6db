"""What the Ray engine runs on Ray's workers: each block prepared for the driver.

These functions are shipped to the workers by value (``ray_engine.ship_by_value``): a
worker does not import Bastion to run them (importing ``bastion.jobs`` costs a worker
over a CPU second here, and a cluster's workers need not have Bastion installed at all).
So this module imports only what a Ray Data worker already has (pyarrow) and orjson, and
nothing from Bastion.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

ROW_COLUMN = "__bastion_row__"


def prepare_rows(batch: Any) -> Any:
    """Each row of a block as JSON bytes (NaN and infinities → null)."""
    import pyarrow as pa

    rows = [orjson.dumps({k: _clean(v) for k, v in r.items()}) for r in batch.to_pylist()]
    return pa.table({ROW_COLUMN: pa.array(rows, type=pa.binary())})


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def finite_columns(batch: Any) -> Any:
    """A block of numeric columns with NaN and infinities made null (what the JSON rows of
    ``prepare_rows`` hold), still as columns for the columnar path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        finite = column
        if pa.types.is_floating(column.type):
            finite = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
        columns.append(finite)
    return pa.table(columns, names=batch.column_names)
