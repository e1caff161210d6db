"""The Ray engine: the job's input read and prepared by Ray Data, scored through the pipeline.

Ray Data reads the file in parallel blocks (``read_parquet`` / ``read_csv`` /
``read_json``); ``map_batches`` prepares each block on the cluster's workers: a Parquet file
of numeric columns stays columnar (NaN and infinities → null) for the scorer's columnar path
(``jobs/columnar.py``), any other input becomes the rows' JSON (NaN → null). The driver —
this server — streams the prepared batches in input order (``preserve_order``) into the
same chunks, scorer, ledger and files as the local engine: the same governance, the same
exactly-once accounting, the same output.

Ray starts once per service (``RayRuntime``): a cluster at ``jobs.ray_address``, or a local
Ray in this process. Set ``RAY_AUTH_MODE=disabled`` for a local Ray that writes nothing
under the home directory. A file Ray cannot parse fails the job (the local engine isolates
malformed rows instead).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import orjson

from bastion.errors import ConfigError
from bastion.jobs.entities import Chunk, Job
from bastion.jobs.formats import chunked, table_chunks
from bastion.jobs.outputs import JobFiles
from bastion.settings.jobs import JobsSettings

ROW_COLUMN = "__bastion_row__"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


class RayRuntime:
    """Connects to Ray once, on first use (from a worker thread: ``ray.init`` blocks)."""

    def __init__(self, settings: JobsSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()

    def ensure(self) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(
                "the ray engine needs Ray: pip install 'bastion[ray]' (ray[data])"
            ) from exc
        with self._lock:
            if ray.is_initialized():
                return
            ray.init(
                address=self._settings.ray_address,
                num_cpus=self._settings.ray_num_cpus,
                include_dashboard=False,
                ignore_reinit_error=True,
                log_to_driver=False,
            )

    def chunks(self, job: Job, files: JobFiles) -> Iterator[Chunk]:
        self.ensure()
        return ray_chunks(job, files)


def _prepare(batch: Any) -> Any:
    """On a Ray worker: each row of a block as JSON bytes (NaN and infinities → null)."""
    import pyarrow as pa

    rows = [orjson.dumps({k: _clean(v) for k, v in r.items()}) for r in batch.to_pylist()]
    return pa.table({ROW_COLUMN: pa.array(rows, type=pa.binary())})


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dataset(path: str, fmt: str) -> Any:
    import ray.data

    if fmt == "parquet":
        return ray.data.read_parquet(path)
    if fmt == "csv":
        return ray.data.read_csv(path)
    return ray.data.read_json(path, lines=True)


def _finite(batch: Any) -> Any:
    """On a Ray worker: a block of numeric columns with NaN and infinities made null (what
    the JSON rows of ``_prepare`` hold), still as columns for the columnar path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        finite = column
        if pa.types.is_floating(column.type):
            finite = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
        columns.append(finite)
    return pa.table(columns, names=batch.column_names)


def columnar_schema(schema: Any) -> bool:
    """True when every column of a Ray dataset's schema is an integer or float column."""
    import pyarrow as pa

    types = list(getattr(schema, "types", None) or [])
    return bool(types) and all(
        isinstance(t, pa.DataType) and (pa.types.is_floating(t) or pa.types.is_integer(t))
        for t in types
    )


def ray_chunks(job: Job, files: JobFiles) -> Iterator[Chunk]:
    """Every row of the job's input once, in order, through Ray Data.

    A Parquet file of numeric columns stays columnar (the scorer's columnar path takes its
    chunks); any other input reaches the driver as each row's JSON.
    """
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    source = _dataset(str(files.input), job.input_format)
    if job.input_format == "parquet" and columnar_schema(source.schema()):
        tables = source.map_batches(_finite, batch_format="pyarrow", batch_size=job.chunk_rows)
        batches = (
            b
            for t in tables.iter_batches(batch_size=job.chunk_rows, batch_format="pyarrow")
            for b in t.to_batches()
        )
        return table_chunks(batches, job.chunk_rows)
    ds = source.map_batches(_prepare, batch_format="pyarrow", batch_size=job.chunk_rows)

    def rows() -> Iterator[Any]:
        for batch in ds.iter_batches(batch_size=job.chunk_rows, batch_format="pyarrow"):
            for raw in batch.column(ROW_COLUMN).to_pylist():
                yield orjson.loads(raw)

    return chunked(rows(), job.chunk_rows)
