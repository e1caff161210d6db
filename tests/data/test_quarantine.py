"""Data contracts in a server: a poisoned batch file is screened row by row (bad rows held
with their reasons, good rows scored, the quarantine-rate alert fires); online, the reject
policy answers 422 naming the rule and holds nothing, the quarantine policy answers and holds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from bastion.errors import InvalidRequest, NotFound
from bastion.pipeline import Call
from bastion.wiring import build_services, close_services
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed, write_jsonl

RULES = [
    {"name": "radius_range", "kind": "range", "field": "mean_radius", "min": 5, "max": 40},
    {"name": "texture_present", "kind": "not_null", "field": "mean_texture"},
    {
        "name": "worst_over_mean",
        "kind": "compare",
        "field": "worst_radius",
        "op": ">=",
        "other": "mean_radius",
    },
]


async def env(tmp_path: Path, policy: str) -> JobsEnv:
    extra = {
        "data": {
            "contracts": [{"deployment": MODEL, "policy": policy, "rules": RULES, "profile": False}]
        },
        "alerts": {
            "rules": [
                {
                    "name": "poisoned",
                    "kind": "quarantine_rate",
                    "threshold": 0.05,
                    "min_requests": 1,
                }
            ]
        },
    }
    settings = job_settings(tmp_path / "data", extra)
    acme, globex = await seed(settings)
    return JobsEnv(await build_services(settings), acme, globex, tmp_path)


@pytest.fixture
async def quarantine_env(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    e = await env(tmp_path, "quarantine")
    try:
        yield e
    finally:
        await close_services(e.svc)


@pytest.fixture
async def reject_env(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    e = await env(tmp_path, "reject")
    try:
        yield e
    finally:
        await close_services(e.svc)


def poisoned(n: int) -> tuple[list[dict[str, Any]], dict[int, str]]:
    data = rows(n)
    bad = {}
    for i in range(0, n, 10):  # every tenth row breaks one rule
        kind = (i // 10) % 3
        if kind == 0:
            data[i]["mean_radius"] *= 100  # a unit change: cm read as µm
            bad[i] = "radius_range"
        elif kind == 1:
            data[i]["mean_texture"] = None
            bad[i] = "texture_present"
        else:
            data[i]["worst_radius"] = data[i]["mean_radius"] - 1
            bad[i] = "worst_over_mean"
    return data, bad


def call(e: JobsEnv, value: Any) -> Call:
    return Call(
        request_id=f"t-{time.time_ns()}",
        deployment=MODEL,
        api="predict",
        inputs=[value],
        batched=False,
        started_at=time.perf_counter(),
        principal=e.acme,
    )


async def test_a_poisoned_file_holds_every_bad_row_scores_the_rest_and_alerts(
    quarantine_env: JobsEnv,
) -> None:
    e = quarantine_env
    data, bad = poisoned(300)
    job = await e.finished(await e.submit(write_jsonl(e.root / "in.jsonl", data)))
    assert job.status == "succeeded", job.error
    assert job.rows_failed == len(bad) == 30
    files = e.svc.jobs.files(job)  # type: ignore[union-attr]
    answered = [r["row"] for r in pq.read_table(files.output).to_pylist()]
    assert answered == [i for i in range(300) if i not in bad]
    errors = [orjson.loads(x) for x in files.errors.read_bytes().splitlines()]
    assert {x["row"]: x["rule"] for x in errors} == bad
    assert {x["code"] for x in errors} == {"quarantined"}
    held = await e.svc.data.store.list_rows("acme", all_tenants=False, source=job.id, limit=1000)  # type: ignore[union-attr]
    assert {h["row"]: h["reasons"][0]["rule"] for h in held} == bad
    assert held[0]["input"] == data[held[0]["row"]]
    assert await e.svc.data.store.list_rows("globex", all_tenants=False) == []  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await e.svc.data.store.get(held[0]["id"], "globex", all_tenants=False)  # type: ignore[union-attr]
    await e.svc.alerts.evaluate()  # type: ignore[union-attr]
    firing = await e.svc.alerts.active()  # type: ignore[union-attr]
    assert [(a.rule, a.deployment) for a in firing] == [("poisoned", MODEL)]


async def test_online_quarantine_answers_and_holds_and_replay_rechecks(
    quarantine_env: JobsEnv,
) -> None:
    e = quarantine_env
    value = rows(1)[0]
    value["worst_radius"] = value["mean_radius"] - 1
    result = await e.svc.pipeline(call(e, value))
    assert len(result.predictions) == 1
    await e.svc.data.writer.flush()  # type: ignore[union-attr]
    held = await e.svc.data.store.list_rows("acme", all_tenants=False, source="online")  # type: ignore[union-attr]
    assert [h["reasons"][0]["rule"] for h in held] == ["worst_over_mean"]
    again = await e.svc.data.replay(e.svc.pipeline, e.acme, held[0])  # type: ignore[union-attr]
    assert again["status"] == "held"  # still breaks the rule: nothing answered


async def test_online_reject_names_the_rule_and_holds_nothing(reject_env: JobsEnv) -> None:
    e = reject_env
    value = {**rows(1)[0]}
    value["mean_radius"] = 1000.0
    with pytest.raises(InvalidRequest) as refused:
        await e.svc.pipeline(call(e, value))
    assert refused.value.details["rule"] == "radius_range"
    assert "radius_range" in str(refused.value)
    await e.svc.data.writer.flush()  # type: ignore[union-attr]
    assert await e.svc.data.store.list_rows(None, all_tenants=True, status=None) == []  # type: ignore[union-attr]
    ok = await e.svc.pipeline(call(e, rows(1)[0]))
    assert len(ok.predictions) == 1
