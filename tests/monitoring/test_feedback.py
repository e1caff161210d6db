"""Feedback: joined to the logged prediction, checked against the model, newest counts."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidRequest, NotFound
from bastion.store import Database
from tests.monitoring.logged import entry, log, service


async def test_labels_are_judged_against_the_prediction(database: Database) -> None:
    svc = service(database)
    await log(
        svc,
        entry("cls", [{"label": "spam"}, {"label": "ham"}]),
        entry("reg", [{"value": 10.0}], deployment="price"),
        entry("llm", [{"choices": []}], deployment="chat"),
    )
    right = await svc.feedback.record("cls", label="spam")
    wrong = await svc.feedback.record("cls", index=1, label={"label": "spam"}, actor="ann")
    assert (right.task, right.correct, right.deployment, right.version) == (
        "classification",
        True,
        "churn",
        1,
    )
    assert (wrong.correct, wrong.index, wrong.actor) == (False, 1, "ann")
    off = await svc.feedback.record("reg", label=12.5)
    assert (off.task, off.abs_error, off.correct) == ("regression", 2.5, None)
    assert (await svc.feedback.record("reg", label={"value": 9})).abs_error == 1.0
    other = await svc.feedback.record("llm", label="a better answer", score=0.2)
    assert (other.task, other.score, other.correct) == ("other", 0.2, None)


@pytest.mark.parametrize(
    ("request_id", "label", "message"),
    [
        ("cls", ["spam"], "predicts class labels; send the true class as a string"),
        ("cls", 3, "not a number"),
        ("cls", {"value": 1}, "not an object"),
        ("reg", "12", "predicts numbers; send the true value as a finite number, not a string"),
        ("reg", True, "not a boolean"),
        ("reg", float("inf"), "not a non-finite number"),
    ],
)
async def test_a_label_that_does_not_fit_is_a_422(
    database: Database, request_id: str, label: object, message: str
) -> None:
    svc = service(database)
    await log(svc, entry("cls", [{"label": "spam"}]), entry("reg", [2.0], deployment="price"))
    with pytest.raises(InvalidRequest, match=message):
        await svc.feedback.record(request_id, label=label)


async def test_integer_and_boolean_classes_take_matching_labels(database: Database) -> None:
    svc = service(database)
    await log(svc, entry("int", [{"label": 1}]), entry("bool", [True]))
    assert (await svc.feedback.record("int", label=1)).correct is True
    assert (await svc.feedback.record("int", label="0")).correct is False
    assert (await svc.feedback.record("bool", label=False)).correct is False


async def test_arguments_are_checked(database: Database) -> None:
    svc = service(database)
    await log(svc, entry("r", [{"label": "a"}]))
    with pytest.raises(InvalidRequest, match="send a 'label'"):
        await svc.feedback.record("r")
    with pytest.raises(InvalidRequest, match="score: must be a finite number"):
        await svc.feedback.record("r", score=float("nan"))
    with pytest.raises(InvalidRequest, match="source must be one of"):
        await svc.feedback.record("r", label="a", source="guess")
    with pytest.raises(InvalidRequest, match="made 1 prediction"):
        await svc.feedback.record("r", index=3, label="a")


async def test_unknown_foreign_and_forbidden_predictions_are_not_found(
    database: Database,
) -> None:
    svc = service(database)
    await log(svc, entry("mine", [{"label": "a"}], tenant="acme"))
    with pytest.raises(NotFound, match="no logged prediction with request id 'nope'"):
        await svc.feedback.record("nope", label="a")
    with pytest.raises(NotFound):
        await svc.feedback.record("mine", label="a", tenant="globex")
    with pytest.raises(NotFound):
        await svc.feedback.record("mine", label="a", tenant="acme", may_use=lambda d: False)
    done = await svc.feedback.record("mine", label="a", tenant="acme", may_use=lambda d: True)
    assert done.correct is True
    assert (await svc.feedback.record("mine", label="b")).correct is False  # admin: tenant None


async def test_the_newest_feedback_counts_and_outcomes_join_it(database: Database) -> None:
    svc = service(database)
    await log(svc, entry("a", [{"label": "x"}, {"label": "y"}]), entry("b", [{"label": "x"}]))
    await svc.feedback.record("a", label="y")
    await svc.feedback.record("a", label="x", source="review", actor="reviewer")
    await svc.feedback.record("a", index=1, label="y")
    await svc.feedback.record("b", label="x", score=0.25)
    rows = await svc.feedback.labelled("churn")
    assert sorted((r.label_key, r.predicted_label) for r in rows) == [
        ("x", "x"),
        ("x", "x"),
        ("y", "y"),
    ]
    assert await svc.feedback.outcomes(["a", "b", "unknown"]) == {"a": 1.0, "b": 0.25}
    assert await svc.feedback.versions("churn") == [1]
    assert await svc.feedback.deployments() == ["churn"]


async def test_feedback_waits_for_a_prediction_still_in_the_queue(database: Database) -> None:
    svc = service(database)
    svc.writer.start()
    try:
        assert svc.offer(entry("fresh", [{"label": "a"}]))
        done = await svc.feedback.record("fresh", label="a")  # flushes the queue first
        assert done.correct is True
    finally:
        await svc.aclose()
