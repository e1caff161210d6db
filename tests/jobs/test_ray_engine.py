"""The Ray engine with a real local Ray: the same job, the same ledger, the same output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bastion.jobs.ray_engine import bound_buffers, columnar_schema, ray_chunks, ship_by_value
from bastion.jobs.ray_prepare import finite_columns, prepare_rows
from tests.jobs.conftest import PRICE, JobsEnv, rows

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One local Ray for the module: 2 CPUs, no dashboard, no auth token, temp dirs here."""
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp = tmp_path_factory.mktemp("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=str(temp),
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


async def test_ray_gives_the_local_engines_output_ledger_and_cost(jobs_env: JobsEnv) -> None:
    data = rows(450)
    path = jobs_env.root / "in.parquet"
    pq.write_table(pa.Table.from_pylist(data), path, row_group_size=70)  # blocks ≠ chunks
    outputs, costs = {}, {}
    for engine in ("local", "ray"):
        job = await jobs_env.finished(await jobs_env.submit(path, engine=engine), timeout=180)
        assert job.status == "succeeded", job.error
        assert job.engine == engine
        files = jobs_env.svc.jobs.files(job)  # type: ignore[union-attr]
        outputs[engine] = pq.read_table(files.output).to_pylist()
        costs[engine] = job.cost_micros
        ledger = await jobs_env.svc.jobs.ledger.totals(job.id)  # type: ignore[union-attr]
        assert ledger == (450, 0, job.cost_micros)
    assert [r["row"] for r in outputs["ray"]] == list(range(450))
    assert outputs["ray"] == outputs["local"]
    assert costs["ray"] == costs["local"] == 450 * PRICE * 1_000_000
    assert outputs["ray"][0]["label"] in ("malignant", "benign")  # typed columns, both engines


async def test_ray_answers_doubtful_parquet_rows_like_the_local_engine(jobs_env: JobsEnv) -> None:
    """Nulls, NaN and infinities: the columnar path on Ray sends them the row path too."""
    data = rows(300)
    doubtful = {5: None, 123: float("nan"), 250: float("inf")}
    for at, value in doubtful.items():
        data[at] = {**data[at], "mean_radius": value}
    path = jobs_env.root / "doubtful.parquet"
    pq.write_table(pa.Table.from_pylist(data), path, row_group_size=70)
    assert columnar_schema(ray.data.read_parquet(str(path)).schema())  # Ray keeps it columnar
    outputs, errors = {}, {}
    for engine in ("local", "ray"):
        job = await jobs_env.finished(await jobs_env.submit(path, engine=engine), timeout=180)
        assert job.status == "succeeded", job.error
        assert (job.rows_done, job.rows_failed) == (300, len(doubtful))
        files = jobs_env.svc.jobs.files(job)  # type: ignore[union-attr]
        outputs[engine] = pq.read_table(files.output).to_pylist()
        errors[engine] = [orjson.loads(line) for line in files.errors.read_bytes().splitlines()]
    assert outputs["ray"] == outputs["local"]
    assert [r["row"] for r in outputs["ray"]] == [i for i in range(300) if i not in doubtful]
    assert [e["row"] for e in errors["ray"]] == sorted(doubtful)
    assert {e["code"] for e in errors["ray"]} == {"invalid_request"}


# A process where any import of Bastion fails: what a cluster worker without it would be.
_WORKER = """
import sys
sys.modules["bastion"] = None  # import bastion... raises ImportError from here on
import pickle
import pyarrow as pa
finite, rows = pickle.loads(sys.stdin.buffer.read())
block = pa.table({"a": [1.0, float("nan"), float("inf")], "b": [1, 2, 3]})
print(finite(block).column("a").null_count, rows(block).num_rows)
"""


def test_the_worker_side_runs_without_importing_bastion(tmp_path: Path) -> None:
    """The block preparations are shipped by value: a worker never imports Bastion (over a
    CPU second per worker here, and a cluster's workers need not have it installed)."""
    ship_by_value()
    shipped = ray.cloudpickle.dumps((finite_columns, prepare_rows))
    done = subprocess.run(
        [sys.executable, "-c", _WORKER], input=shipped, capture_output=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""}, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.split() == [b"2", b"3"]


def test_ray_data_holds_a_bounded_buffer_in_small_blocks() -> None:
    """What keeps the server's memory flat with the file: a soft bound on the object store
    memory the reads may hold, blocks of a sixteenth of it, order kept."""
    ctx = ray.data.DataContext.get_current().copy()
    bound_buffers(ctx, 64 << 20)
    assert ctx.execution_options.resource_limits.object_store_memory == 64 << 20
    assert ctx.target_max_block_size == 4 << 20
    assert ctx.target_min_block_size <= ctx.target_max_block_size
    assert ctx.execution_options.preserve_order


def test_ray_chunks_stream_a_file_larger_than_the_buffer_in_order(tmp_path: Path) -> None:
    """100,000 rows of 30 floats (24 MB in memory) through a 16 MB buffer: every row once, in
    order, in chunks of exactly chunk_rows; NaN made null on the workers."""
    n, names = 100_000, [f"c{i}" for i in range(30)]
    first = pa.array([float("nan") if i == 7 else float(i) for i in range(n)])
    table = pa.table([first] + [pa.array([float(j)] * n) for j in range(1, 30)], names=names)
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path, row_group_size=25_000)

    class _Job:
        input_format, chunk_rows = "parquet", 8192

    class _Files:
        input = path

    chunks = list(ray_chunks(_Job(), _Files(), 16 << 20))  # type: ignore[arg-type]
    assert [c.index for c in chunks] == list(range(13))
    assert [c.first_row for c in chunks] == [i * 8192 for i in range(13)]
    assert all(c.table.num_rows == 8192 for c in chunks[:-1])
    column = pa.chunked_array([c.table.column("c0") for c in chunks])
    assert column.null_count == 1 and not column[7].is_valid
    assert column.to_pylist()[8:] == [float(i) for i in range(8, n)]
