"""A job's part files: answers in Arrow IPC parts, error parts only where rows were refused;
the output assembled from them (and from the Parquet parts of an older server)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq

from bastion.jobs.entities import Answer, RowError
from bastion.jobs.outputs import JobFiles, answer_table


def test_a_chunk_without_refusals_leaves_no_error_part_and_drops_a_stale_one(
    tmp_path: Path,
) -> None:
    files = JobFiles(tmp_path, "parquet", "jsonl")
    refused = RowError(1, "invalid_request", "no")
    files.write_part(0, [Answer(0, {"label": "a"}, 0.9)], [refused])
    assert files.part_errors(0).exists()
    files.write_part(0, [Answer(0, {"label": "a"}, 0.9), Answer(1, {"label": "b"}, 0.6)], [])
    assert not files.part_errors(0).exists()  # the chunk's new run refused nothing
    files.write_part(1, [Answer(2, {"label": "c"}, 0.7)], [RowError(3, "malformed_row", "x")])
    files.assemble([0, 1])
    out = [orjson.loads(line) for line in files.output.read_bytes().splitlines()]
    assert [(r["row"], r["output"]["label"]) for r in out] == [(0, "a"), (1, "b"), (2, "c")]
    errors = [orjson.loads(line) for line in files.errors.read_bytes().splitlines()]
    assert [(e["row"], e["code"]) for e in errors] == [(3, "malformed_row")]


def test_parts_written_by_an_older_server_as_parquet_are_still_assembled(tmp_path: Path) -> None:
    files = JobFiles(tmp_path, "parquet", "parquet")
    files.parts.mkdir(parents=True)
    pq.write_table(
        answer_table([Answer(0, {"label": "old"}, 0.5)]), files.parts / "00000000.parquet"
    )
    (files.parts / "00000000.errors.jsonl").write_bytes(b"")
    files.write_part(1, [Answer(1, {"label": "new"}, 0.8)], [])
    files.assemble([0, 1])
    out = pq.read_table(files.output).to_pylist()
    assert [(r["row"], orjson.loads(r["output"])["label"]) for r in out] == [(0, "old"), (1, "new")]
    assert files.errors.read_bytes() == b""
