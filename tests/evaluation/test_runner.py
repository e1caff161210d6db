"""Eval runs through the server's own model loader: batches, scores, slices, the report."""

from __future__ import annotations

import pytest

from bastion.errors import BastionError, InvalidRequest, NotFound
from bastion.evaluation import EvaluationService
from bastion.registry import Registry
from tests.evaluation.conftest import add_model, rows


async def test_run_scores_overall_and_per_slice_and_stores_the_report(
    evaluation: EvaluationService, registry: Registry
) -> None:
    await add_model(registry, "m", "say")
    spec = [
        ("a", "a", "en"),
        ("b", "b", "en"),
        ("a", "b", "fr"),
        ("b", "b", "fr"),
        ("a", "a", None),
    ]
    await evaluation.sets.register("golden", rows(spec))
    report = await evaluation.runner.run("m@1", "golden", created_by="ann")
    assert report.model == "m" and report.version == 1 and report.set_ref == "golden@1"
    assert report.rows == 5 and report.scorers == ["accuracy", "f1", "latency"]
    assert report.metrics["accuracy"] == pytest.approx(0.8)
    assert report.slices["lang=en"]["rows"] == 2
    assert report.slices["lang=en"]["metrics"]["accuracy"] == 1.0
    assert report.slices["lang=fr"]["metrics"]["accuracy"] == 0.5
    assert report.gaps["accuracy"]["gap"] == 0.5 and report.gaps["accuracy"]["worst"] == "lang=fr"
    assert report.params["batch_size"] == 2 and report.params["output_field"] is None
    assert "latency_p95_ms" in report.metrics
    (stored,) = await evaluation.reports.list_reports("m")
    assert stored == report
    sha = (await evaluation.sets.resolve("golden")).sha256
    assert await evaluation.reports.latest("m", 1, sha) == report
    assert await evaluation.reports.latest("m", 2, sha) is None


async def test_run_by_alias_with_chosen_scorers_and_field(
    evaluation: EvaluationService, registry: Registry
) -> None:
    await add_model(registry, "n", "number")
    await registry.promote("n", 1, alias="production", actor="t")
    await evaluation.sets.register("nums", rows([("1.5", "2", None), ("3", "3", None)]))
    report = await evaluation.runner.run(
        "n@production", "nums@1", scorers=["mae", "exact_match"], output_field="value"
    )
    assert report.metrics == {"mae": 0.25, "rmse": pytest.approx(0.125**0.5), "exact_match": 0.5}


async def test_run_errors(evaluation: EvaluationService, registry: Registry) -> None:
    await add_model(registry, "m", "say", "broken")
    await evaluation.sets.register("golden", rows([("a", "a", None)]))
    with pytest.raises(InvalidRequest, match="NAME@VERSION"):
        await evaluation.runner.run("m", "golden")
    with pytest.raises(NotFound):
        await evaluation.runner.run("m@9", "golden")
    with pytest.raises(NotFound, match="no eval set named 'nope'"):
        await evaluation.runner.run("m@1", "nope")
    with pytest.raises(InvalidRequest, match="unknown; known scorers"):
        await evaluation.runner.run("m@1", "golden", scorers=["bleu"])
    with pytest.raises(BastionError, match="model 'm' v2 raised RuntimeError"):
        await evaluation.runner.run("m@2", "golden")
    assert await evaluation.reports.list_reports() == []  # a failed run stores nothing
