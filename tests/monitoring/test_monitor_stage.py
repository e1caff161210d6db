"""The monitor stage and service: predictions logged off the hot path, drift fed, gauges set."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from bastion.backends.base import Prediction
from bastion.core.principal import Principal
from bastion.errors import Conflict, NotFound
from bastion.guards.pii import PiiDetector
from bastion.monitoring import build_profile
from bastion.monitoring.outlets import Outlets
from bastion.monitoring.service import MonitoringService
from bastion.monitoring.stage import Entry, MonitorStage
from bastion.observability import Metrics
from bastion.pipeline import Call, Result
from bastion.pipeline.call import LlmRequest
from bastion.settings.monitoring import MonitoringSettings
from bastion.store import Database
from tests.observability.test_metrics import exposition, value

CLIENT = Principal("key_1", "app", "acme", frozenset({"client"}))
CLOCK = 1_800_000_000.0  # drift windows are aligned on the hour: a fixed clock keeps one


def make_call(inputs: list[Any], **kw: Any) -> Call:
    call = Call(
        request_id=kw.pop("request_id", "r1"),
        deployment="churn",
        api="predict",
        inputs=inputs,
        batched=True,
        started_at=time.perf_counter(),
        **kw,
    )
    call.principal = CLIENT
    return call


def answer(outputs: list[Any], version: int = 1) -> Any:
    async def terminal(call: Call) -> Result:
        predictions = [Prediction(o, 0.5) for o in outputs]  # exact in float32
        return Result(call.deployment, "churn-model", version, predictions)

    return terminal


class Sink:
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def offer(self, entry: Entry) -> bool:
        self.entries.append(entry)
        return True

    def segment_headers(self, deployment: str, headers: Any) -> dict[str, str]:
        return {"plan": headers["x-bastion-segment-plan"]} if headers else {}


async def test_the_stage_offers_the_models_own_predictions() -> None:
    sink = Sink()
    stage = MonitorStage(sink)
    call = make_call([{"x": 1}, {"x": 2}], headers={"x-bastion-segment-plan": "pro"})
    result = await stage(call, answer([{"label": "a"}, {"label": "b"}]))
    assert [p.output for p in result.predictions] == [{"label": "a"}, {"label": "b"}]
    (e,) = sink.entries
    assert (e.request_id, e.deployment, e.model, e.version, e.tenant) == (
        "r1",
        "churn",
        "churn-model",
        1,
        "acme",
    )
    assert e.inputs == [{"x": 1}, {"x": 2}] and e.headers == {"plan": "pro"} and not e.llm

    async def reviewed(call: Call) -> Result:
        call.review_original = [Prediction({"label": "model"}, 0.3)]
        return Result("churn", "churn-model", 1, [Prediction({"status": "pending_review"})])

    await stage(make_call([{"x": 3}]), reviewed)
    assert sink.entries[-1].predictions[0].output == {"label": "model"}


async def test_streams_are_logged_when_complete_and_failures_never_fail_a_call() -> None:
    sink = Sink()
    stage = MonitorStage(sink)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data"

    async def streamed(call: Call) -> Result:
        call.llm = LlmRequest("chat")
        return Result("churn", "group", 1, [], stream=chunks())

    call = make_call([{"messages": []}])
    await stage(call, streamed)
    assert sink.entries == []
    final = Result("churn", "group", 1, [Prediction({"content": "hi"})])
    for finish in call.finishers:
        await finish(final, None)
    assert len(sink.entries) == 1 and sink.entries[0].llm

    class Broken(Sink):
        def offer(self, entry: Entry) -> bool:
            raise RuntimeError("queue exploded")

    done = await MonitorStage(Broken())(make_call([{"x": 1}]), answer([{"label": "a"}]))
    assert done.predictions[0].output == {"label": "a"}


def _profile(shift: float = 0.0, n: int = 2000) -> Any:
    rng = np.random.default_rng(1)
    rows = [{"x": float(v)} for v in rng.normal(shift, 1.0, n)]
    return build_profile(rows, predictions=["a"] * (n // 2) + ["b"] * (n - n // 2))


@pytest.fixture
async def monitoring(database: Database) -> AsyncIterator[MonitoringService]:
    settings = MonitoringSettings(
        prediction_log={"feedback_wait_s": 0}, drift={"min_samples": 100, "baseline_rows": 500}
    )
    svc = MonitoringService(settings, database, clock=lambda: CLOCK, scrub=PiiDetector().scrub)
    await svc.start()
    yield svc
    await svc.aclose()


async def _serve(svc: MonitoringService, values: list[float], version: int = 1) -> None:
    stage = svc.stage()
    labels = [{"label": "a" if i % 2 else "b"} for i in range(len(values))]
    for start in range(0, len(values), 50):
        call = make_call([{"x": v} for v in values[start : start + 50]], request_id=f"r{start}")
        await stage(call, answer(labels[start : start + 50], version))
    await svc.writer.flush()


async def test_logged_calls_feed_drift_from_the_first_request(
    monitoring: MonitoringService,
) -> None:
    await monitoring.references.put("churn-model", 1, _profile(), source="training")
    rng = np.random.default_rng(2)
    await _serve(monitoring, rng.normal(0.0, 1.0, 300).tolist())
    report, about = await monitoring.drift.report("churn", 1)
    assert report.rows == 300  # the first batch counted once its reference was loaded
    assert report.status == "ok" and about is not None and about["source"] == "training"
    await _serve(monitoring, rng.normal(1.0, 1.0, 600).tolist())
    shifted, _ = await monitoring.drift.report("churn", 1)
    assert shifted.status == "drift" and "x" in shifted.drifted()
    assert (await monitoring.predictions.get("r0")) is not None


async def test_a_baseline_is_frozen_from_the_logged_window(monitoring: MonitoringService) -> None:
    rng = np.random.default_rng(3)
    await _serve(monitoring, rng.normal(5.0, 1.0, 40).tolist())
    with pytest.raises(Conflict, match="only 40 predictions were logged"):
        await monitoring.drift.freeze("churn", version=1, actor="ops")
    with pytest.raises(NotFound, match="has no reference profile yet"):
        await monitoring.drift.report("churn", 1)
    await _serve(monitoring, rng.normal(5.0, 1.0, 160).tolist())
    done = await monitoring.drift.freeze("churn", version=1, actor="ops")
    assert (done["rows"], done["source"]) == (200, "window")
    stored = await monitoring.references.describe("churn-model", 1, "churn")
    assert stored is not None and stored["source"] == "baseline" and stored["rows"] == 200
    await _serve(monitoring, rng.normal(5.0, 1.0, 200).tolist())
    report, _ = await monitoring.drift.report("churn", 1)
    assert report.rows == 200 and report.status == "ok"


async def test_a_baseline_is_collected_from_the_next_rows(monitoring: MonitoringService) -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(NotFound, match="no prediction of it was logged"):
        await monitoring.drift.collect("churn", version=1, rows=100, actor="ops")
    await _serve(monitoring, rng.normal(0.0, 1.0, 10).tolist())  # the log names its model
    await monitoring.drift.collect("churn", version=1, rows=100, actor="ops")
    await _serve(monitoring, rng.normal(0.0, 1.0, 150).tolist())
    await monitoring.refresh()  # stores the completed baseline
    stored = await monitoring.references.describe("churn-model", 1, "churn")
    assert stored is not None and stored["created_by"] == "live"
    report, _ = await monitoring.drift.report("churn", 1)
    assert report.rows == 50


async def test_gauges_and_alerts_follow_accuracy_and_drift(monitoring: MonitoringService) -> None:
    fired: list[tuple[str, str]] = []

    class Alerts:
        async def fire(self, rule: str, **kw: Any) -> None:
            fired.append(("fire", kw["dedupe_key"]))

        async def resolve(self, key: str) -> None:
            fired.append(("resolve", key))

    metrics = Metrics()
    monitoring.outlets = Outlets(metrics=metrics, alerts=Alerts())
    await monitoring.references.put("churn-model", 1, _profile(), source="training")
    await _serve(monitoring, np.random.default_rng(5).normal(2.0, 1.0, 300).tolist())
    await monitoring.feedback.record("r0", label="b")
    await monitoring.feedback.record("r0", index=1, label="b")
    await monitoring.refresh()
    text = exposition(metrics)
    labels = {"deployment": "churn", "version": "1", "window": "last_100", "segment": "_all"}
    assert value(text, "bastion_model_quality", **labels, value="_all", metric="accuracy") == 0.5
    assert value(text, "bastion_model_quality", **labels, value="_all", metric="labelled") == 2
    assert value(text, "bastion_drift_score", deployment="churn", signal="_overall") > 0
    assert fired == [("fire", "drift:churn:1")]


async def test_a_stopped_writer_drops_and_counts(database: Database) -> None:
    metrics = Metrics()
    svc = MonitoringService(
        MonitoringSettings(), database, scrub=PiiDetector().scrub, outlets=Outlets(metrics=metrics)
    )
    await MonitorStage(svc)(make_call([{"x": 1}]), answer([{"label": "a"}]))
    assert svc.writer.dropped == 1
    assert value(exposition(metrics), "bastion_prediction_log_dropped_total") == 1


async def test_reading_the_report_a_minute_later_keeps_the_open_window(
    database: Database,
) -> None:
    """The defect: the first report a minute after the last one reloaded the reference and
    threw the open window away (150 shifted rows, then "0 rows, insufficient data")."""
    now = [CLOCK]
    settings = MonitoringSettings(
        prediction_log={"feedback_wait_s": 0}, drift={"min_samples": 100, "baseline_rows": 500}
    )
    svc = MonitoringService(settings, database, clock=lambda: now[0], scrub=PiiDetector().scrub)
    await svc.start()
    try:
        await svc.references.put("churn-model", 1, _profile(), source="training")
        await _serve(svc, np.random.default_rng(6).normal(2.0, 1.0, 150).tolist())
        first, _ = await svc.drift.report("churn", 1)
        assert (first.rows, first.status) == (150, "drift")
        now[0] += 61.0  # a minute later, still inside the hour's window
        again, _ = await svc.drift.report("churn", 1)
        await svc.refresh()  # the background refresh reads it too
        last, _ = await svc.drift.report("churn", 1)
        assert [r.to_dict() for r in (again, last)] == [first.to_dict()] * 2
        # a new reference does replace the windows
        await svc.references.put("churn-model", 1, _profile(2.0), source="training")
        now[0] += 61.0
        fresh, _ = await svc.drift.report("churn", 1)
        assert fresh.rows == 0
    finally:
        await svc.aclose()


async def test_a_configured_drift_rule_replaces_the_built_in_event(
    monitoring: MonitoringService,
) -> None:
    """One drift pages once: with a ``drift`` rule configured, no ``drift_detected`` too."""
    fired: list[str] = []

    class Alerts:
        settings = SimpleNamespace(rules=[SimpleNamespace(kind="drift", deployments=None)])

        async def fire(self, rule: str, **kw: Any) -> None:
            fired.append(rule)

        async def resolve(self, key: str) -> None:
            fired.append("resolve")

    monitoring.outlets = Outlets(alerts=Alerts())
    await monitoring.references.put("churn-model", 1, _profile(), source="training")
    await _serve(monitoring, np.random.default_rng(5).normal(2.0, 1.0, 300).tolist())
    await monitoring.refresh()
    assert (await monitoring.drift.report("churn", 1))[0].status == "drift"
    assert fired == []
