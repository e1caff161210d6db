"""Corrections export: every decided item, as JSON Lines and as Parquet, scoped by tenant."""

from __future__ import annotations

import io
import time
from typing import Any

import orjson
import pyarrow.parquet as pq

from bastion.pipeline import Call
from bastion.review import ReviewService
from bastion.services import Services
from tests.review.conftest import policy, principal

REVIEWER = principal("rita", "reviewer")


async def _decided(svc: Services) -> ReviewService:
    review = svc.review
    assert review is not None
    for rid, tenant in (("r1", "default"), ("r2", "default"), ("r3", "acme")):
        secret, _ = await svc.keys.create(f"client-{rid}", ["client"], tenant=tenant)
        call = Call(rid, "classifier", "predict", [{"confidence": 0.3}], False, time.perf_counter())
        call.headers = {"authorization": f"Bearer {secret}"}
        await svc.pipeline(call)
    admin = principal("root", "admin")
    items = await review.browse(admin, status="pending", deployment=None, limit=10)
    by_request = {i["request_id"]: i["id"] for i in items}
    await review.decide(by_request["r1"], admin, "correct", {"label": "ham"}, "not spam")
    await review.decide(by_request["r2"], admin, "approve", None, "")
    await review.decide(by_request["r3"], admin, "reject", None, "unclear")
    return review


async def test_jsonl_holds_what_retraining_needs(make_services: Any) -> None:
    review = await _decided(await make_services([policy()]))
    lines = (await review.export(REVIEWER, "jsonl")).splitlines()
    rows = [orjson.loads(line) for line in lines]
    assert [r["request_id"] for r in rows] == ["r1", "r2"]  # acme's item is not rita's
    first = rows[0]
    assert {k: first[k] for k in ("input", "model_output", "model_confidence")} == {
        "input": {"confidence": 0.3},
        "model_output": {"label": "spam"},
        "model_confidence": 0.3,
    }
    assert (first["final_output"], first["decision"], first["reviewer"]) == (
        {"label": "ham"},
        "corrected",
        "root",
    )
    assert (first["reason"], first["model"], first["model_version"]) == (
        "not spam",
        "classifier",
        1,
    )
    assert first["queued_at"] <= first["decided_at"]
    assert rows[1]["final_output"] == {"label": "spam"}  # approved: the model was right


async def test_parquet_has_the_same_rows(make_services: Any) -> None:
    review = await _decided(await make_services([policy()]))
    table = pq.read_table(io.BytesIO(await review.export(principal("root", "admin"), "parquet")))
    rows = table.to_pylist()
    assert [r["decision"] for r in rows] == ["corrected", "approved", "rejected"]
    assert orjson.loads(rows[0]["final_output"]) == {"label": "ham"}
    assert rows[2]["final_output"] == "null"
    assert rows[0]["decided_at"].tzinfo is not None
    assert table.schema.field("model_version").type == "int64"
