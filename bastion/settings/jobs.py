"""Settings of batch and backfill jobs: chunk sizes, concurrency, leases, the Ray engine."""

from __future__ import annotations

from pydantic import Field

from bastion.settings.core import Section


class JobsSettings(Section):
    """How jobs run (see docs/jobs.md).

    A job's rows are committed to its ledger ``chunk_rows`` at a time; within a chunk the
    rows go to the deployment's pipeline in calls of ``call_rows`` (which may exceed
    ``limits.max_batch``, the bound of clients' requests: a job's larger calls spread each
    call's fixed cost over more rows; a deployment's own ``max_batch`` still bounds them),
    ``concurrency`` calls at once. A Parquet job that takes the columnar path (a tabular
    deployment, ``docs/jobs.md``) holds its chunks as Arrow columns, not dicts, so it is
    committed ``columnar_chunk_rows`` at a time in calls of ``columnar_call_rows``: fewer
    ledger commits, part files and pipeline passes per row, in bounded memory. A running
    job holds a lease that it renews before a chunk once a third of it has passed (and
    reads its cancel flag before every chunk); a job whose lease lapsed (its process died)
    is taken over by any server within ``poll_interval_s``.
    """

    enabled: bool = True
    chunk_rows: int = Field(4096, ge=1, le=1_000_000)
    call_rows: int = Field(2048, ge=1, le=100_000)
    columnar_chunk_rows: int = Field(
        32_768, ge=1, le=1_000_000, description="chunk rows of a job on the columnar path"
    )
    columnar_call_rows: int = Field(
        32_768,
        ge=1,
        le=100_000,
        description="call rows of a job on the columnar path (the chunk's size: one call each)",
    )
    concurrency: int = Field(4, ge=1, le=64)
    lease_s: float = Field(15.0, gt=0, le=3600)
    poll_interval_s: float = Field(2.0, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=100, description="per call, for retryable refusals")
    ray_address: str | None = Field(
        None, description="a Ray cluster (ray://… or auto); unset: a local Ray in this process"
    )
    ray_num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray")
    ray_buffer_mb: int = Field(
        64,
        ge=16,
        le=1_000_000,
        description="object store memory a Ray job's reads may hold ahead of the server "
        "(blocks of a sixteenth of it): bounds the server's memory whatever the file's size",
    )
