"""The local engine: the job's input read in this process, streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator

from bastion.jobs.entities import Chunk, Job
from bastion.jobs.formats import read_chunks, read_table_chunks
from bastion.jobs.outputs import JobFiles


def local_chunks(job: Job, files: JobFiles) -> Iterator[Chunk]:
    if job.input_format == "parquet":  # Arrow columns: the columnar path may take them
        return read_table_chunks(files.input, job.chunk_rows)
    return read_chunks(files.input, job.input_format, job.chunk_rows)
