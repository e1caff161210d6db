"""Backfills: history re-run through a pinned version, compared with what was answered,
overall and per slice (a known slice disagrees), with accuracy deltas where labelled, and
registered as an eval set."""

from __future__ import annotations

import time

import orjson

from bastion.jobs.backfill import eval_rows
from bastion.pipeline import Call
from tests.jobs.conftest import MODEL, JobsEnv, rows, write_jsonl

FLIP = {"malignant": "benign", "benign": "malignant"}


async def test_a_backfill_reports_agreement_per_slice_and_becomes_an_eval_set(
    jobs_env: JobsEnv,
) -> None:
    e = jobs_env
    data = rows(120)
    call = Call(request_id="b-0", deployment=MODEL, api="predict", inputs=data, batched=True,
                started_at=time.perf_counter(), principal=e.acme)  # fmt: skip
    labels = [p.output["label"] for p in (await e.svc.pipeline(call)).predictions]
    history = []
    for value, label in zip(data, labels, strict=True):
        big = value["mean_radius"] > 15
        answered = FLIP[label] if big else label  # history disagrees on the "big" slice
        slices = {"size": "big" if big else "small"}
        doc = {"input": value, "answered": {"label": answered}, "expected": label}
        history.append({**doc, "slices": slices})
    path = write_jsonl(e.root / "history.jsonl", history)
    job = await e.finished(
        await e.submit(
            path,
            version=1,
            kind="backfill",
            options={"input_field": "input", "rows_per_s": 100_000},
        )
    )
    assert job.status == "succeeded", job.error
    report = orjson.loads(e.svc.jobs.report(job).read_bytes())  # type: ignore[union-attr]
    big = sum(1 for h in history if h["slices"]["size"] == "big")
    assert 0 < big < 120
    assert report["slices"]["size=small"]["agreement"] == 1.0
    assert report["slices"]["size=big"]["agreement"] == 0.0
    assert report["overall"]["agreement"] == (120 - big) / 120
    assert report["overall"]["accuracy_after"] == 1.0  # the labels are v1's own answers
    assert report["overall"]["delta"] == big / 120
    content = eval_rows(e.svc.jobs.files(job))  # type: ignore[union-attr]
    registered, created = await e.svc.evaluation.sets.register(  # type: ignore[union-attr]
        "history", content, fmt="jsonl"
    )
    assert created and registered.rows == 120
