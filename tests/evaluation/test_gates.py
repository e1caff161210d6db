"""Promotion gates, each failing alone: thresholds, no regression (overall and per slice),
approvals, shadow agreement; and the guard's refusal and admin override."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from bastion.errors import Conflict, Forbidden, InvalidRequest, PromotionGateFailed
from bastion.evaluation import EvaluationService
from bastion.registry import ArtifactStore, Registry
from bastion.store import Database
from tests.evaluation.conftest import add_model, make_service, rows

# v1 ("say") is right on every row; v2 ("say_v2") answers "x" on the fr rows marked v2.
GOLDEN = rows([("a", "a", "en"), ("b", "b", "en"), ("a", "a", "fr"), ("b", "b", "fr")])
GOLDEN_V2_FR_WORSE = (
    rows([("a", "a", "en"), ("b", "b", "en")])
    + b"\n"
    + rows([("a", "a", "fr")], v2="x")
    + b"\n"
    + rows([("b", "b", "fr")])
)


@pytest.fixture
def build(database: Database, registry: Registry, artifacts: ArtifactStore) -> Any:
    async def make(gate: dict[str, Any], shadow: Any = None) -> EvaluationService:
        await add_model(registry, "m", "say", "say_v2")
        await registry.promote("m", 1, alias="production", actor="t")
        svc = make_service(database, registry, artifacts, gates={"m": {"production": gate}})
        if shadow is not None:
            svc.attach_shadow(shadow)
        return svc

    return make


def gates_of(failures: list[Any]) -> list[str]:
    return [f.gate for f in failures]


async def test_an_ungated_alias_passes(build: Any) -> None:
    svc = await build({"approvals": 3})
    assert await svc.gates.check("m", 2, "staging") == []
    assert await svc.guard.authorize("m", 2, "staging", admin=False) == []


async def test_threshold_needs_a_report_of_this_version_on_that_set(build: Any) -> None:
    svc = await build({"thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}]})
    (missing_set,) = await svc.gates.check("m", 2, "production")
    assert missing_set.gate == "threshold" and "no eval set named 'golden'" in missing_set.message
    await svc.sets.register("golden", GOLDEN_V2_FR_WORSE)
    (no_report,) = await svc.gates.check("m", 2, "production")
    assert "v2 has no eval report on set 'golden@1'" in no_report.message
    assert "bastion eval run m@2 --set golden@1" in no_report.message
    await svc.runner.run("m@1", "golden")  # another version's report does not count
    assert gates_of(await svc.gates.check("m", 2, "production")) == ["threshold"]
    await svc.runner.run("m@2", "golden")
    (low,) = await svc.gates.check("m", 2, "production")
    assert (
        low.describe() == "gate 'threshold' failed: accuracy on set 'golden@1' is 0.75, needs ≥ 0.9"
    )
    assert low.details["value"] == 0.75 and low.details["min"] == 0.9
    # a new set version does not reach the gate by itself: the gate stays pinned to golden@1
    v2, _ = await svc.sets.register("golden", GOLDEN, created_by_key="writer", tenant="default")
    (pinned,) = await svc.gates.check("m", 2, "production")
    assert pinned.details["set"] == "golden@1" and pinned.details["value"] == 0.75
    # its author's approval, and a foreign tenant's, do not move the pin
    await svc.pins.approve_set(v2, key_id="writer", approver="w", tenant="default")
    await svc.pins.approve_set(v2, key_id="other", approver="o", tenant="globex")
    (still,) = await svc.gates.check("m", 2, "production")
    assert still.details["set"] == "golden@1"
    # an entitled approver's does: then the new version's own report is needed
    await svc.pins.approve_set(v2, key_id="ann", approver="ann", tenant="default")
    (stale,) = await svc.gates.check("m", 2, "production")
    assert "no eval report on set 'golden@2'" in stale.message


async def test_threshold_max_and_missing_metric(build: Any) -> None:
    svc = await build(
        {
            "thresholds": [
                {"set": "golden@1", "metric": "latency_p95_ms", "max": 0.000001},
                {"set": "golden@1", "metric": "bleu", "min": 0.1},
            ]
        }
    )
    await svc.sets.register("golden", GOLDEN)
    await svc.runner.run("m@2", "golden")
    slow, missing = await svc.gates.check("m", 2, "production")
    assert "latency_p95_ms on set 'golden@1'" in slow.message and "needs ≤ 1e-06" in slow.message
    assert "has no metric 'bleu' (it has: accuracy" in missing.message


async def test_gates_use_the_newest_report_holding_their_metrics(build: Any) -> None:
    svc = await build(
        {
            "thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}],
            "no_regression": {"sets": ["golden"], "metrics": ["accuracy"]},
        }
    )
    await svc.sets.register("golden", GOLDEN)
    await svc.runner.run("m@1", "golden")
    await svc.runner.run("m@2", "golden", scorers=["accuracy"])
    await svc.runner.run("m@2", "golden", scorers=["latency"])  # newer, without accuracy
    assert await svc.gates.check("m", 2, "production") == []


async def test_no_regression_needs_a_metric_in_common(build: Any) -> None:
    svc = await build({"no_regression": {"sets": ["golden"]}})
    await svc.sets.register("golden", GOLDEN)
    await svc.runner.run("m@1", "golden", scorers=["accuracy"])
    await svc.runner.run("m@2", "golden", scorers=["exact_match"])
    (nothing,) = await svc.gates.check("m", 2, "production")
    assert nothing.gate == "no_regression" and "share no metric to compare" in nothing.message


async def test_threshold_passes(build: Any) -> None:
    svc = await build({"thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}]})
    await svc.sets.register("golden", GOLDEN)
    await svc.runner.run("m@2", "golden")
    assert await svc.gates.check("m", 2, "production") == []


async def test_no_regression_overall_and_per_slice(build: Any) -> None:
    svc = await build(
        {"no_regression": {"sets": ["golden"], "metrics": ["accuracy"], "margin": 0.3}}
    )
    await svc.sets.register("golden", GOLDEN_V2_FR_WORSE)
    await svc.runner.run("m@2", "golden")
    (holder_missing,) = await svc.gates.check("m", 2, "production")
    assert (
        holder_missing.gate == "no_regression" and "v1 has no eval report" in holder_missing.message
    )
    await svc.runner.run("m@1", "golden")
    # overall 0.75 vs 1.0 is within the margin of 0.3; the fr slice (0.5 vs 1.0) is not
    (fr,) = await svc.gates.check("m", 2, "production")
    assert fr.message == (
        "accuracy on set 'golden@1' in slice lang=fr is 0.5 for v2, 1 for v1 (current "
        "'production'): worse by 0.5, margin 0.3"
    )
    assert fr.details["slice"] == "lang=fr" and fr.details["current_version"] == 1


async def test_no_regression_without_slices_and_with_every_metric(build: Any) -> None:
    svc = await build({"no_regression": {"sets": ["golden"], "per_slice": False}})
    await svc.sets.register("golden", GOLDEN_V2_FR_WORSE)
    await svc.runner.run("m@1", "golden")
    await svc.runner.run("m@2", "golden")
    failed = await svc.gates.check("m", 2, "production")
    metrics = {f.details["metric"] for f in failed}
    assert "accuracy" in metrics and "f1_macro" in metrics
    assert not any(m.startswith("latency") for m in metrics)  # noisy: left out by default
    assert all(f.details["slice"] is None for f in failed)
    assert await svc.gates.check("m", 1, "production") == []  # v1 holds it: nothing to compare


async def test_no_regression_passes_when_nothing_holds_the_alias(
    database: Database, registry: Registry, artifacts: ArtifactStore
) -> None:
    await add_model(registry, "m", "say")
    gate = {"no_regression": {"sets": ["golden"]}}
    svc = make_service(database, registry, artifacts, gates={"m": {"production": gate}})
    assert await svc.gates.check("m", 1, "production") == []


async def test_approvals_are_distinct_keys(build: Any) -> None:
    svc = await build({"approvals": 2})
    (none,) = await svc.gates.check("m", 2, "production")
    assert none.message.startswith("0 of 2 approvals by approver keys (approved by: nobody yet)")
    home = {"tenant": "default"}  # model m is shared: the default tenant approves for it
    await svc.approvals.approve("m", 2, key_id="k1", approver="ann", comment="lgtm", **home)
    with pytest.raises(Conflict, match="'ann' has already approved m v2"):
        await svc.approvals.approve("m", 2, key_id="k1", approver="ann", **home)
    await svc.approvals.approve("m", 1, key_id="k2", approver="bob", **home)  # another version's
    (one,) = await svc.gates.check("m", 2, "production")
    assert "1 of 2 approvals" in one.message and "ann" in one.message
    await svc.approvals.approve("m", 2, key_id="k9", approver="eve", tenant="globex")
    (foreign,) = await svc.gates.check("m", 2, "production")  # another tenant's: not counted
    assert "1 of 2 approvals" in foreign.message and "eve (not an approver" in foreign.message
    (own,) = await svc.gates.check("m", 2, "production", requester="k1")  # own request
    assert "0 of 2 approvals" in own.message
    await svc.approvals.approve("m", 2, key_id="k2", approver="bob", **home)
    assert await svc.gates.check("m", 2, "production") == []
    assert [a.approver for a in await svc.approvals.list_approvals("m", 2)] == ["ann", "eve", "bob"]


async def test_shadow_agreement(build: Any) -> None:
    seen: dict[str, tuple[float | None, int]] = {"now": (None, 0)}

    async def shadow(model: str, version: int) -> tuple[float | None, int]:
        return seen["now"]

    svc = await build({"shadow_agreement": {"min_rate": 0.9, "min_samples": 50}}, shadow)
    (few,) = await svc.gates.check("m", 2, "production")
    assert few.gate == "shadow_agreement" and "has 0 shadow comparisons" in few.message
    assert await svc.gates.check("m", 2, "production", traffic=False) == []  # needs traffic
    seen["now"] = (0.8, 100)
    (low,) = await svc.gates.check("m", 2, "production")
    assert "agreed with live traffic on 0.8 of 100" in low.message and "≥ 0.9" in low.message
    seen["now"] = (0.95, 100)
    assert await svc.gates.check("m", 2, "production") == []


async def test_refusal_names_every_failed_gate(build: Any) -> None:
    svc = await build(
        {"thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}], "approvals": 1}
    )
    with pytest.raises(PromotionGateFailed) as caught:
        await svc.guard.authorize("m", 2, "production", admin=True)
    err = caught.value
    assert err.type == "promotion_gate_failed" and err.status == HTTPStatus.CONFLICT
    assert "gate 'threshold' failed" in err.message and "gate 'approvals' failed" in err.message
    assert [f["gate"] for f in err.details["failed"]] == ["threshold", "approvals"]
    assert err.details["alias"] == "production" and err.details["version"] == 2


async def test_only_an_admin_overrides_and_with_a_reason(build: Any) -> None:
    svc = await build({"approvals": 1})
    with pytest.raises(Forbidden, match="only an admin"):
        await svc.guard.authorize("m", 2, "production", admin=False, override=True, reason="x")
    with pytest.raises(InvalidRequest, match="needs a reason"):
        await svc.guard.authorize("m", 2, "production", admin=True, override=True, reason=" ")
    failed = await svc.guard.authorize(
        "m", 2, "production", admin=True, override=True, reason="hotfix"
    )
    assert gates_of(failed) == ["approvals"]  # returned for the audit record


async def test_canary_gate_leaves_traffic_gates_for_later(build: Any) -> None:
    async def shadow(model: str, version: int) -> tuple[float | None, int]:
        return None, 0

    svc = await build({"shadow_agreement": {"min_rate": 0.9}}, shadow)
    await svc.guard.canary_gate("m", 2, "production", False)
    with pytest.raises(PromotionGateFailed, match="gate 'shadow_agreement' failed"):
        await svc.guard.canary_gate("m", 2, "production", True)
