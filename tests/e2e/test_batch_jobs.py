"""Batch jobs through a real server: a job killed with kill -9 about half-way resumes on
restart with every row once and its cost charged once; then `bastion batch run` end to end.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.e2e.server import Server, make_server
from tests.jobs.conftest import MODEL, PRICE, job_settings, rows, seed, write_jsonl

ROWS = 4000


def start(data: Path, **jobs: Any) -> Server:
    """A server on ``data`` with the breast-cancer model, a price, and a slow key limit."""
    cfg = {
        "demo": False,
        "monitoring": {"enabled": False},
        "governance": {
            "prices": {MODEL: {"per_prediction": PRICE}},
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_usd": 1000}]},
            "rate_limits": {"rules": [{"scope": "key", "limit": 10, "period_s": 1}]},
        },
        "jobs": {
            "chunk_rows": 200,
            "call_rows": 50,
            "columnar_chunk_rows": 200,  # the parquet file is several chunks too
            "columnar_call_rows": 50,
            "lease_s": 1,
            "poll_interval_s": 0.2,
            **jobs,
        },
    }
    (data / "bastion.yaml").write_text(yaml.safe_dump(cfg))
    return make_server(data, BASTION_CONFIG=str(data / "bastion.yaml")).start()


def seeded(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    asyncio.run(seed(job_settings(data)))
    return data


def wait_for(server: Server, job_id: str, done: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.get(f"/v1/admin/jobs/{job_id}").json()["data"]
        if job["rows_done"] >= done or job["status"] in ("succeeded", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck:\n{server.log()[-3000:]}")


def batch_run_cli(server: Server, tmp_path: Path) -> None:
    """`bastion batch run`: upload, progress, atomic download of the output and errors."""
    path = write_jsonl(tmp_path / "cli.jsonl", rows(300), bad_lines={7: b"[oops"})
    out = tmp_path / "out.parquet"
    done = server.cli(
        "batch", "run", MODEL, "--input", str(path), "--output", str(out),
        "--url", server.url, "--key", server.admin_key,
    )  # fmt: skip
    assert "300 rows answered" in done.stdout, done.stdout + done.stderr
    table = pq.read_table(out).to_pylist()
    assert [r["row"] for r in table] == [r for r in range(301) if r != 7]
    errors = tmp_path / "out.errors.jsonl"
    assert [orjson.loads(x)["code"] for x in errors.read_bytes().splitlines()] == ["malformed_row"]
    assert not list(tmp_path.glob(".out.parquet.part-*"))
    listed = server.cli("batch", "list", "--url", server.url, "--key", server.admin_key)
    assert "301/301" in listed.stdout


def data_clis(server: Server, tmp_path: Path) -> None:
    """The other data-layer commands, each a client of its admin route."""
    opts = ("--url", server.url, "--key", server.admin_key)
    table = tmp_path / "patients.jsonl"
    table.write_bytes(b"".join(orjson.dumps({"pid": f"p{i}", **r}) + b"\n"
                               for i, r in enumerate(rows(3))))  # fmt: skip
    loaded = server.cli("features", "load", "patients", str(table), "--entity-key", "pid", *opts)
    assert "3 rows loaded" in loaded.stdout
    ids = tmp_path / "ids.csv"
    ids.write_text("pid\np1\n")
    out = tmp_path / "train.jsonl"
    server.cli("features", "export", "patients", "--entities", str(ids), "--entity-key", "pid",
               "-o", str(out), *opts)  # fmt: skip
    exported = orjson.loads(out.read_bytes().splitlines()[0])
    assert exported["mean_radius"] == rows(3)[1]["mean_radius"]
    renamed = [{("radius" if k == "mean_radius" else k): v for k, v in r.items()} for r in rows(20)]
    changed = write_jsonl(tmp_path / "r.jsonl", renamed)
    diff = server.cli("data", "diff", MODEL, "--input", str(changed), *opts, check=False)
    assert diff.returncode == 3 and "mean_radius" in diff.stdout, diff.stdout + diff.stderr
    assert server.cli("quarantine", "list", *opts).returncode == 0
    history = [{"input": r, "answered": {"label": "benign"}} for r in rows(10)]
    done = server.cli("backfill", MODEL, "--version", "1", "--input",
                      str(write_jsonl(tmp_path / "h.jsonl", history)), *opts)  # fmt: skip
    assert '"agreement"' in done.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])  # parquet: the columnar path
def test_kill_9_half_way_then_resume_gives_every_row_once_and_one_charge(
    tmp_path: Path, fmt: str
) -> None:
    data = seeded(tmp_path / "srv")
    if fmt == "parquet":
        path = tmp_path / "in.parquet"
        pq.write_table(pa.Table.from_pylist(rows(ROWS)), path)
    else:
        path = write_jsonl(tmp_path / "in.jsonl", rows(ROWS))
    server = start(data)
    try:
        with path.open("rb") as fh:
            created = server.post(
                "/v1/admin/jobs",
                params={"deployment": MODEL, "filename": path.name},
                content=fh.read(),
                headers={**server.auth, "content-type": "application/octet-stream"},
            )
        assert created.status_code == 201, created.text
        job_id = created.json()["data"]["id"]
        half = wait_for(server, job_id, ROWS // 2)
        assert half["status"] == "running" and half["rows_done"] < ROWS
    finally:
        server.stop(signal.SIGKILL)
    server = start(data)  # same data dir: the job's lease lapses and it resumes
    try:
        job = wait_for(server, job_id, ROWS)
        for _ in range(100):
            if job["status"] != "running":
                break
            time.sleep(0.1)
            job = server.get(f"/v1/admin/jobs/{job_id}").json()["data"]
        assert job["status"] == "succeeded", job
        assert (job["rows_done"], job["rows_failed"]) == (ROWS, 0)
        assert abs(job["cost_usd"] - ROWS * PRICE) < 1e-9
        out = server.get(f"/v1/admin/jobs/{job_id}/output")
        (tmp_path / "out.parquet").write_bytes(out.content)
        table = pq.read_table(tmp_path / "out.parquet")
        assert table.column("row").to_pylist() == list(range(ROWS))  # every row, exactly once
        assert table.schema.field("probabilities").type.num_fields == 2  # typed, after resume
        assert table.column("label").null_count == 0
        if fmt == "jsonl":  # the CLIs once (they do not depend on the job's format)
            batch_run_cli(server, tmp_path)
            data_clis(server, tmp_path)
    finally:
        server.stop()  # SIGTERM: the usage log writes what it still holds
    with sqlite3.connect(data / "bastion.db") as db:
        charged, calls = db.execute(
            "select sum(cost_micros), count(*) from usage_records where request_id like ?",
            (f"{job_id}-%",),
        ).fetchone()
        chunks, ledger_rows, ledger_cost = db.execute(
            "select count(*), sum(rows), sum(cost_micros) from job_chunks where job_id = ?",
            (job_id,),
        ).fetchone()
    assert charged == ledger_cost == ROWS * PRICE * 1_000_000  # charged once
    assert calls == ROWS // 50
    assert (chunks, ledger_rows) == (ROWS // 200, ROWS)
