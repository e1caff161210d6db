"""The Ray engine: the job's input read and prepared by Ray Data, scored through the pipeline.

Ray Data reads the file in parallel blocks (``read_parquet`` / ``read_csv`` /
``read_json``); ``map_batches`` prepares each block on the cluster's workers: a Parquet file
of numeric columns stays columnar (NaN and infinities → null) for the scorer's columnar path
(``jobs/columnar.py``), any other input becomes the rows' JSON (NaN → null). The driver —
this server — streams the prepared batches in input order (``preserve_order``) into the
same chunks, scorer, ledger and files as the local engine: the same governance, the same
exactly-once accounting, the same output.

What Ray Data holds ahead of the driver is bounded (``bound_buffers``, ``jobs.ray_buffer_mb``)
so that the driver's memory does not grow with the file, and the worker-side functions
(``ray_prepare.py``) travel by value, so that a worker never imports Bastion.

Ray starts once per service (``RayRuntime``): a cluster at ``jobs.ray_address``, or a local
Ray in this process. Set ``RAY_AUTH_MODE=disabled`` for a local Ray that writes nothing
under the home directory. A file Ray cannot parse fails the job (the local engine isolates
malformed rows instead).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson

from bastion.errors import ConfigError
from bastion.jobs.entities import Chunk, Job
from bastion.jobs.formats import chunked, table_chunks
from bastion.jobs.outputs import JobFiles
from bastion.jobs.ray_prepare import ROW_COLUMN, finite_columns, prepare_rows
from bastion.settings.jobs import JobsSettings

MIN_BLOCK_BYTES = 1 << 20


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
        return ray_chunks(job, files, self._settings.ray_buffer_mb << 20)


def ship_by_value() -> None:
    """Ray pickles ``ray_prepare``'s functions by value from now on: its workers run them
    without importing Bastion (idempotent)."""
    from ray import cloudpickle

    from bastion.jobs import ray_prepare

    cloudpickle.register_pickle_by_value(ray_prepare)  # type: ignore[no-untyped-call]


def bound_buffers(ctx: Any, buffer_bytes: int) -> None:
    """Bound what Ray Data holds ahead of the driver to about ``buffer_bytes``.

    Unbounded, a local Ray reads as far ahead as its object store allows (30 % of the
    machine's memory) in blocks of up to 128 MiB, and the driver maps every block it
    takes: its resident memory grows with the file (621 MB at 100k rows, 904 MB at 1M),
    and a one-file read yields its first block only once 128 MiB are read and prepared.
    Here blocks are at most a sixteenth of the budget, and the streaming executor stops
    launching reads once its tasks' outputs fill the budget (a soft limit: a task that
    runs finishes its block).
    """
    ctx.execution_options.preserve_order = True
    ctx.use_datasource_v2 = False  # its ListFiles task took 10-26 s here for one local file
    ctx.target_max_block_size = max(MIN_BLOCK_BYTES, buffer_bytes // 16)
    ctx.target_min_block_size = min(ctx.target_min_block_size, ctx.target_max_block_size)
    ctx.execution_options.resource_limits = ctx.execution_options.resource_limits.copy(
        object_store_memory=buffer_bytes
    )


def _dataset(path: str, fmt: str) -> Any:
    import ray.data

    if fmt == "parquet":
        return ray.data.read_parquet(path)
    if fmt == "csv":
        return ray.data.read_csv(path)
    return ray.data.read_json(path, lines=True)


def columnar_schema(schema: Any) -> bool:
    """True when every column of a Ray dataset's schema is an integer or float column."""
    import pyarrow as pa

    types = list(getattr(schema, "types", None) or [])
    return bool(types) and all(
        isinstance(t, pa.DataType) and (pa.types.is_floating(t) or pa.types.is_integer(t))
        for t in types
    )


def ray_chunks(job: Job, files: JobFiles, buffer_bytes: int = 64 << 20) -> Iterator[Chunk]:
    """Every row of the job's input once, in order, through Ray Data.

    A Parquet file of numeric columns stays columnar (the scorer's columnar path takes its
    chunks); any other input reaches the driver as each row's JSON.
    """
    import ray.data

    ship_by_value()
    bound_buffers(ray.data.DataContext.get_current(), buffer_bytes)
    source = _dataset(str(files.input), job.input_format)
    if job.input_format == "parquet" and columnar_schema(source.schema()):
        tables = source.map_batches(finite_columns, batch_format="pyarrow")
        batches = (
            b
            for t in tables.iter_batches(
                batch_size=job.chunk_rows, batch_format="pyarrow", prefetch_batches=1
            )
            for b in t.to_batches()
        )
        return table_chunks(batches, job.chunk_rows)
    ds = source.map_batches(prepare_rows, batch_format="pyarrow")

    def rows() -> Iterator[Any]:
        for batch in ds.iter_batches(
            batch_size=job.chunk_rows, batch_format="pyarrow", prefetch_batches=1
        ):
            for raw in batch.column(ROW_COLUMN).to_pylist():
                yield orjson.loads(raw)

    return chunked(rows(), job.chunk_rows)
