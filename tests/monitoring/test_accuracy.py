"""Accuracy from late labels: the figures, their windows, versions and segments."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sklearn.metrics import f1_score

from bastion.errors import InvalidRequest
from bastion.monitoring.accuracy import Labelled, by_segment, macro_f1, quality
from bastion.store import Database
from tests.monitoring.logged import entry, log, service

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _row(n: int, truth: Any, guess: Any, **kw: Any) -> Labelled:
    regression = isinstance(guess, float)
    return Labelled(
        prediction_id=n,
        version=kw.get("version", 1),
        tenant="default",
        segments=kw.get("segments", {}),
        task="regression" if regression else "classification",
        predicted_label=None if regression else guess,
        label_key=None if regression else truth,
        predicted_value=guess if regression else None,
        label_value=truth if regression else None,
        score=kw.get("score"),
        predicted_at=NOW,
    )


def test_macro_f1_matches_scikit_learn() -> None:
    rng = random.Random(7)
    for _ in range(20):
        classes = ["a", "b", "c", "d"][: rng.randint(2, 4)]
        truth = [rng.choice(classes) for _ in range(40)]
        guess = [rng.choice(classes) for _ in range(40)]
        expected = f1_score(truth, guess, average="macro")
        assert macro_f1(list(zip(truth, guess, strict=True))) == pytest.approx(expected)


def test_figures_of_a_group() -> None:
    rows = [_row(1, "a", "a"), _row(2, "a", "b"), _row(3, "b", "b"), _row(4, "b", "b", score=0.5)]
    q = quality(rows, window="w", version=1)
    assert (q.task, q.labelled, q.classified, q.correct, q.accuracy) == (
        "classification",
        4,
        4,
        3,
        0.75,
    )
    assert q.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert (q.scored, q.mean_score, q.mae) == (1, 0.5, None)
    reg = quality([_row(1, 10.0, 8.0), _row(2, 1.0, 2.0)], window="w", version=2)
    assert (reg.task, reg.mae, reg.rmse, reg.accuracy) == (
        "regression",
        1.5,
        pytest.approx(1.5811388),
        None,
    )
    assert quality([], window="w", version=1).task == "other"


def test_groups_by_segment_value() -> None:
    rows = [
        _row(1, "a", "a", segments={"region": "eu"}),
        _row(2, "a", "b", segments={"region": "eu"}),
        _row(3, "b", "b", segments={"region": "us"}),
        _row(4, "b", "b"),
    ]
    found = {(q.segment, q.value): q.accuracy for q in by_segment(rows, window="w", version=1)}
    assert found == {
        ("_all", "_all"): 0.75,
        ("region", "eu"): 0.5,
        ("region", "unknown"): 1.0,
        ("region", "us"): 1.0,
    }


async def test_rolling_windows_per_version_and_segment(database: Database) -> None:
    svc = service(
        database,
        accuracy_windows=[{"last": 3}, {"hours": 1}],
        deployments=[{"deployment": "churn", "segments": [{"name": "plan", "header": "plan"}]}],
    )
    now = datetime.now(UTC)
    old = (now - timedelta(hours=2)).timestamp()
    labels = {  # request: (version, predicted, true label, plan, when)
        "r1": (1, "stay", "stay", "free", old),
        "r2": (1, "stay", "leave", "free", now.timestamp() - 60),
        "r3": (1, "leave", "leave", "pro", now.timestamp() - 50),
        "r4": (1, "stay", "stay", "pro", now.timestamp() - 40),
        "r5": (2, "leave", "stay", "pro", now.timestamp() - 30),
    }
    for rid, (version, guess, _, plan, at) in labels.items():
        await log(
            svc, entry(rid, [{"label": guess}], version=version, headers={"plan": plan}, at=at)
        )
    await log(svc, entry("unlabelled", [{"label": "stay"}]))
    for rid, (_, _, truth, _, _) in labels.items():
        await svc.feedback.record(rid, label=truth)

    figures = await svc.accuracy.figures("churn")
    got = {(q.window, q.version, q.segment, q.value): (q.labelled, q.accuracy) for q in figures}
    assert got == {
        ("last_3", 2, "_all", "_all"): (1, 0.0),
        ("last_3", 2, "plan", "pro"): (1, 0.0),
        ("last_3", 1, "_all", "_all"): (3, 2 / 3),  # r2..r4: the 3 newest of version 1
        ("last_3", 1, "plan", "pro"): (2, 1.0),
        ("last_3", 1, "plan", "free"): (1, 0.0),
        ("1h", 2, "_all", "_all"): (1, 0.0),
        ("1h", 2, "plan", "pro"): (1, 0.0),
        ("1h", 1, "_all", "_all"): (3, 2 / 3),  # r1 was predicted 2 hours ago
        ("1h", 1, "plan", "pro"): (2, 1.0),
        ("1h", 1, "plan", "free"): (1, 0.0),
    }
    only = await svc.accuracy.figures("churn", window="1h", version=1)
    assert {q.window for q in only} == {"1h"} and {q.version for q in only} == {1}
    assert await svc.accuracy.figures("churn", tenant="acme") == []
    with pytest.raises(
        InvalidRequest, match="unknown accuracy window 'week'; configured: last_3, 1h"
    ):
        await svc.accuracy.figures("churn", window="week")
