"""The columnar path of tabular jobs: the same file answers the same as the row path.

A Parquet file whose rows include doubtful ones (a null, a NaN, a value below the contract's
bound, one too large to be exact as a float) is scored twice, with and without the columnar
plan: the answers, the error rows (codes and messages) and the cost are the same. Then a
whole job: the doubtful rows land in the error file with their reason, the others are
answered, and each call of the job left one audit record.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from bastion.contracts.numeric import numeric_records
from bastion.demo.tabular import sample_inputs
from bastion.jobs import ChunkScorer, ScorerLimits
from bastion.jobs.columnar import StoredInput, prepare_columns
from bastion.jobs.formats import read_table_chunks
from bastion.jobs.outputs import answer_table
from bastion.store.audit_tables import AuditRecordRow
from bastion.wiring import build_services, close_services
from bastion.wiring.data_layer import job_columns
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, seed, trained

BOUNDED = "mean_radius"  # given a minimum of 0 by the deployment's input schema below
DOUBTFUL = {3: None, 11: float("nan"), 40: -1.0, 77: 1e300}


def bounded_schema() -> dict[str, Any]:
    names = trained().signature["feature_names"]
    properties: dict[str, Any] = {n: {"type": "number"} for n in names}
    properties[BOUNDED] = {"type": "number", "minimum": 0}
    return {
        "type": "object",
        "properties": properties,
        "required": names,
        "additionalProperties": False,
    }


@pytest.fixture
async def bounded_env(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    extra = {"deployments": [{"name": MODEL, "input_schema": bounded_schema()}]}
    settings = job_settings(tmp_path / "data", extra)
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


def doubtful_file(path: Path, n: int = 250) -> Path:
    rows: list[dict[str, Any]] = sample_inputs(n)
    for at, value in DOUBTFUL.items():
        rows[at] = {**rows[at], BOUNDED: value}
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


async def test_the_columnar_and_row_paths_answer_a_chunk_alike(bounded_env: JobsEnv) -> None:
    svc = bounded_env.svc
    path = doubtful_file(bounded_env.root / "in.parquet")
    job = await bounded_env.submit(path)
    limits = ScorerLimits(call_rows=32, columnar_call_rows=32)
    plan = job_columns(svc.data, svc.deployments, svc.gateway)
    columnar = ChunkScorer(svc.pipeline, limits, columns=plan)
    rows = ChunkScorer(svc.pipeline, limits)
    assert plan(job) is not None  # this deployment may take the columnar path
    for chunk in read_table_chunks(path, 100):
        a = await columnar.score(job, bounded_env.acme, chunk)
        b = await rows.score(job, bounded_env.acme, chunk)
        assert a.blocks and not b.blocks  # the columnar path did answer in columns
        assert (
            answer_table(a.answers, a.blocks).to_pylist()
            == answer_table(b.answers, b.blocks).to_pylist()
        )
        classes = ["malignant", "benign"]  # and as typed columns (jobs/typed.py)
        assert (
            answer_table(a.answers, a.blocks, classes).to_pylist()
            == answer_table(b.answers, b.blocks, classes).to_pylist()
        )
        assert a.errors == b.errors
        assert a.cost_micros == b.cost_micros


async def test_a_parquet_job_sends_doubtful_rows_the_row_path(bounded_env: JobsEnv) -> None:
    svc = bounded_env.svc
    assert svc.jobs is not None
    path = doubtful_file(bounded_env.root / "in.parquet")
    job = await bounded_env.finished(await bounded_env.submit(path, output_format="jsonl"))
    assert job.status == "succeeded", job.error
    assert (job.rows_done, job.rows_failed) == (250, len(DOUBTFUL))
    files = svc.jobs.files(job)
    out = [orjson.loads(line) for line in files.output.read_bytes().splitlines()]
    assert [r["row"] for r in out] == [i for i in range(250) if i not in DOUBTFUL]
    assert {r["output"]["label"] for r in out} == {"malignant", "benign"}
    errors = {e["row"]: e for e in map(orjson.loads, files.errors.read_bytes().splitlines())}
    assert set(errors) == set(DOUBTFUL)
    assert {e["code"] for e in errors.values()} == {"invalid_request"}
    assert BOUNDED in errors[40]["message"]  # the contract's own wording names the field
    assert job.cost_micros == 1000 * (250 - len(DOUBTFUL))  # charged once per answered row
    async with svc.db.session() as session:
        query = select(func.count()).where(AuditRecordRow.request_id.like(f"{job.id}-c%"))
        records = await session.scalar(query)
    # per chunk of 100: 3 or 4 columnar calls of ≤ 32 rows, plus the row path's calls
    # (and halvings) for the doubtful rows; never one record per row
    assert records is not None and 9 <= records < 250 // 4


def runs(rows: list[int]) -> list[list[int]]:
    """``rows`` (ascending) as ``[start, stop)`` runs of consecutive numbers."""
    out: list[list[int]] = []
    for r in rows:
        if out and out[-1][1] == r:
            out[-1][1] = r + 1
        else:
            out.append([r, r + 1])
    return out


async def test_a_columnar_calls_audit_record_names_its_rows_in_the_stored_input(
    bounded_env: JobsEnv,
) -> None:
    """The input digest of a columnar call is the sha256 of ``{"columns", "dtype",
    "input_sha256", "rows", "shape"}``: the uploaded file's sha256 and the call's rows in it
    (the doubtful rows, which went the row path, are not among them)."""
    svc = bounded_env.svc
    path = doubtful_file(bounded_env.root / "in.parquet")
    job = await bounded_env.finished(await bounded_env.submit(path))
    assert job.status == "succeeded", job.error
    file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert job.options["input_sha256"] == file_sha
    names = list(bounded_schema()["properties"])
    expected = set()
    for first in range(0, 250, job.chunk_rows):  # chunks of 100, calls of ≤ 32 good rows
        good = [r for r in range(first, min(first + job.chunk_rows, 250)) if r not in DOUBTFUL]
        for i in range(0, len(good), 32):
            call = good[i : i + 32]
            doc = {
                "columns": names,
                "dtype": "float64-le",
                "input_sha256": file_sha,
                "rows": runs(call),
                "shape": [len(call), len(names)],
            }
            canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
            expected.add(hashlib.sha256(canonical).hexdigest())
    async with svc.db.session() as session:
        query = select(AuditRecordRow.input_sha256).where(
            AuditRecordRow.request_id.like(f"{job.id}-c%")
        )
        recorded = list(await session.scalars(query))
    assert expected <= set(recorded)  # every columnar call, each named once
    assert sum(r in expected for r in recorded) == len(expected) == 3 + 4 + 2


def test_a_job_without_a_stored_input_digest_hashes_each_calls_matrix(tmp_path: Path) -> None:
    """A job created before inputs were hashed at upload (no ``input_sha256`` on it): each
    call's audit form is still the sha256 of its float64 matrix."""
    records = numeric_records(bounded_schema())
    assert records is not None
    table = pq.read_table(doubtful_file(tmp_path / "in.parquet", 100))
    cited = prepare_columns(table, records, 32, StoredInput("f" * 64, 200))
    hashed = prepare_columns(table, records, 32)
    assert cited is not None and hashed is not None
    for a, b in zip(cited[1], hashed[1], strict=True):
        assert np.array_equal(a.matrix, b.matrix)
        matrix_doc = orjson.loads(b.canonical())
        assert matrix_doc["sha256"] == hashlib.sha256(b.matrix.astype("<f8").tobytes()).hexdigest()
        cite_doc = orjson.loads(a.canonical())
        assert cite_doc["input_sha256"] == "f" * 64 and "sha256" not in cite_doc
    good = [r for r in range(100) if r not in DOUBTFUL]
    first = orjson.loads(cited[1][0].canonical())["rows"]
    assert first == runs([200 + r for r in good[:32]])  # positions in the file, not the chunk


def same_rows_twice(root: Path, n: int) -> tuple[Path, Path]:
    """The same ``n`` inputs as Parquet (the columnar path) and as JSONL (the row path)."""
    data = sample_inputs(n)
    parquet, jsonl = root / "in.parquet", root / "in.jsonl"
    pq.write_table(pa.Table.from_pylist(data), parquet)
    jsonl.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in data))
    return parquet, jsonl


async def audit_records(svc: Any, job_id: str) -> int | None:
    """How many audit records the job's calls left (one per call)."""
    async with svc.db.session() as session:
        query = select(func.count()).where(AuditRecordRow.request_id.like(f"{job_id}-c%"))
        return await session.scalar(query)


async def test_a_columnar_job_is_chunked_and_called_by_its_own_sizes(tmp_path: Path) -> None:
    settings = job_settings(tmp_path / "data", columnar_chunk_rows=64, columnar_call_rows=16)
    acme, _ = await seed(settings)
    svc = await build_services(settings)
    try:
        env = JobsEnv(svc, acme, acme, tmp_path)
        parquet, jsonl = same_rows_twice(tmp_path, 150)
        columnar = await env.finished(await env.submit(parquet))
        by_rows = await env.finished(await env.submit(jsonl))
        assert (columnar.chunk_rows, by_rows.chunk_rows) == (64, 100)  # jobs.chunk_rows: 100
        assert columnar.status == by_rows.status == "succeeded"
        assert svc.jobs is not None
        assert (
            pq.read_table(svc.jobs.files(columnar).output).to_pylist()
            == pq.read_table(svc.jobs.files(by_rows).output).to_pylist()
        )
        # chunks of 64, 64, 22 rows in calls of ≤ 16
        assert await audit_records(svc, columnar.id) == 4 + 4 + 2
    finally:
        await close_services(svc)


async def test_a_deployments_own_max_batch_cuts_the_jobs_calls(tmp_path: Path) -> None:
    """A deployment whose ``max_batch`` (8) is below the job's call sizes gets calls of 8 on
    both paths: none is refused and split in halves (which would leave more audit records)."""
    extra = {"deployments": [{"name": MODEL, "max_batch": 8}]}
    settings = job_settings(tmp_path / "data", extra, columnar_chunk_rows=64, columnar_call_rows=16)
    acme, _ = await seed(settings)
    svc = await build_services(settings)
    try:
        env = JobsEnv(svc, acme, acme, tmp_path)
        parquet, jsonl = same_rows_twice(tmp_path, 150)
        for path, chunks in ((parquet, (64, 64, 22)), (jsonl, (100, 50))):
            job = await env.finished(await env.submit(path))
            assert job.status == "succeeded", job.error
            assert (job.rows_done, job.rows_failed) == (150, 0)
            # calls of ≤ 8, none refused
            assert await audit_records(svc, job.id) == sum(-(-n // 8) for n in chunks)
    finally:
        await close_services(svc)
