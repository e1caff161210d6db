"""The Ray engine with a real local Ray: the same job, the same ledger, the same output."""

from __future__ import annotations

import os
from collections.abc import Iterator

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bastion.jobs.ray_engine import columnar_schema
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
    assert orjson.loads(outputs["ray"][0]["output"]) is not None


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
