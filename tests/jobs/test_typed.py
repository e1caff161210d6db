"""Typed output columns: a classifier's Parquet output holds its answers as typed Arrow
columns, with the online answer's values exactly, whichever path (columnar or row by row)
answered a row; CSV and JSONL outputs keep the JSON text."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from bastion.backends.columns import ClassifierColumns
from bastion.contracts.classifier import classifier_schema
from bastion.jobs.entities import Answer, AnswerBlock
from bastion.jobs.outputs import answer_table
from bastion.jobs.typed import classifier_classes, output_values, typed_schema
from bastion.pipeline.call import Call
from tests.jobs.conftest import MODEL, JobsEnv, rows, write_jsonl

CLASSES = ["malignant", "benign"]


def test_a_classifier_contract_gives_its_classes_and_any_other_none() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    assert classifier_classes({**schema, **classifier_schema(CLASSES)}) == CLASSES
    wider = classifier_schema(CLASSES)
    wider["properties"] = {**wider["properties"], "extra": {"type": "string"}}
    assert classifier_classes(wider) is None
    assert classifier_classes({"type": "object"}) is None
    assert classifier_classes(None) is None


def test_a_block_and_its_rows_make_the_same_typed_columns() -> None:
    answers = ClassifierColumns(np.array([[0.25, 0.75], [0.9, 0.1], [0.5, 0.5]]), CLASSES)
    block = AnswerBlock(np.array([4, 5, 6]), answers)
    rows = [Answer(4 + i, p.output, p.confidence) for i, p in enumerate(answers)]
    typed = answer_table([], [block], CLASSES)
    assert typed.schema == typed_schema(CLASSES)
    assert typed.to_pylist() == answer_table(rows, [], CLASSES).to_pylist()
    assert output_values(typed) == [p.output for p in answers]  # the online answer's shape
    assert typed.column("label").to_pylist() == ["benign", "malignant", "malignant"]  # tie: first


def test_an_answer_that_is_not_the_classifiers_keeps_its_json_text() -> None:
    answers = ClassifierColumns(np.array([[0.25, 0.75]]), CLASSES)
    other = {"label": "unsure", "note": "fallback"}
    table = answer_table([Answer(1, other, None)], [AnswerBlock(np.array([0]), answers)], CLASSES)
    first, second = table.to_pylist()
    assert first["label"] == "benign" and first["output"] is None
    assert second["label"] is None and second["probabilities"] is None
    assert orjson.loads(second["output"]) == other
    assert output_values(table) == [answers[0].output, other]


def test_a_block_of_another_versions_classes_keeps_its_json_text() -> None:
    answers = ClassifierColumns(np.array([[0.6, 0.4]]), ["yes", "no"])  # not the job's
    table = answer_table([], [AnswerBlock(np.array([7]), answers)], CLASSES)
    assert table.schema == typed_schema(CLASSES)
    (rec,) = table.to_pylist()
    assert rec["row"] == 7 and rec["label"] is None and rec["confidence"] == 0.6
    assert output_values(table) == [answers[0].output]


async def online(env: JobsEnv, values: list[Any]) -> list[Any]:
    out = []
    for value in values:
        call = Call(request_id=f"t-{time.time_ns()}", deployment=MODEL, api="predict",
                    inputs=[value], batched=False, started_at=time.perf_counter(),
                    principal=env.acme)  # fmt: skip
        out.append((await env.svc.pipeline(call)).predictions[0].output)
    return out


async def test_a_parquet_output_is_typed_with_the_online_answers(jobs_env: JobsEnv) -> None:
    data = rows(300)
    parquet = jobs_env.root / "in.parquet"
    pq.write_table(pa.Table.from_pylist(data), parquet)  # the columnar path
    jsonl = write_jsonl(jobs_env.root / "in.jsonl", data)  # the row path
    tables = {}
    for path in (parquet, jsonl):
        job = await jobs_env.finished(await jobs_env.submit(path))
        assert job.status == "succeeded", job.error
        assert job.options["output_classes"] == CLASSES  # stored: a resume writes the same
        tables[path.suffix] = pq.read_table(jobs_env.svc.jobs.files(job).output)  # type: ignore[union-attr]
    table = tables[".parquet"]
    assert table.schema == typed_schema(CLASSES)
    assert dict(zip(table.column_names, map(str, table.schema.types), strict=True)) == {
        "row": "int64",
        "verdict": "string",
        "label": "string",
        "class_id": "int64",
        "probability": "double",
        "probabilities": "struct<malignant: double, benign: double>",
        "confidence": "double",
        "output": "string",
    }
    assert table.column("row").to_pylist() == list(range(300))
    assert table.column("output").null_count == 300  # every answer fits the typed columns
    assert table.to_pylist() == tables[".jsonl"].to_pylist()  # either path, the same values
    sample = list(range(0, 300, 13))
    expected = await online(jobs_env, [data[i] for i in sample])
    values = output_values(table)
    assert [values[i] for i in sample] == expected  # exactly, floats and all
    assert table.column("confidence").to_pylist() == table.column("probability").to_pylist()


async def test_csv_and_jsonl_outputs_keep_the_json_text(jobs_env: JobsEnv) -> None:
    data = rows(40)
    parquet = jobs_env.root / "in.parquet"
    pq.write_table(pa.Table.from_pylist(data), parquet)
    expected = await online(jobs_env, data)
    job = await jobs_env.finished(await jobs_env.submit(parquet, output_format="jsonl"))
    assert "output_classes" not in job.options
    out = jobs_env.svc.jobs.files(job).output.read_bytes().splitlines()  # type: ignore[union-attr]
    assert [orjson.loads(line)["output"] for line in out] == expected
    job = await jobs_env.finished(await jobs_env.submit(parquet, output_format="csv"))
    text = jobs_env.svc.jobs.files(job).output.read_text()  # type: ignore[union-attr]
    assert text.splitlines()[0] == "row,verdict,output,confidence"
    assert len(text.splitlines()) == 41
