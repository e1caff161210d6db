"""The groundedness scorer: answers against the text of the chunks they cite."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.scorers import build_scorers
from bastion.evaluation.scorers.groundedness import row_groundedness

CHUNK = "Refunds are paid within fourteen days of the returned parcel."


def raw(answer: str, *texts: str) -> dict[str, Any]:
    cited = [{"document": "d", "chunk": "0", "text": t} for t in texts]
    return {"answer": answer, "citations": cited}


def score(spec: str, rows: list[Any]) -> dict[str, float]:
    (scorer,) = build_scorers([spec], [None] * len(rows))
    return scorer.score(Observations(rows, rows, [None] * len(rows), [1.0] * len(rows)))


def test_an_answer_taken_from_its_chunks_is_grounded() -> None:
    assert row_groundedness("Refunds are paid within fourteen days.", [CHUNK], 0.6) == 1.0


def test_an_invented_sentence_is_not() -> None:
    answer = "Refunds are paid within fourteen days. Shipping to Mars costs nine dollars."
    assert row_groundedness(answer, [CHUNK], 0.6) == 0.5


def test_an_answer_that_claims_nothing_counts_as_grounded() -> None:
    assert row_groundedness("", [], 0.6) == 1.0
    assert row_groundedness("It is.", [], 0.6) == 1.0  # function words only


def test_metrics_over_rows() -> None:
    rows = [
        raw("Refunds are paid within fourteen days.", CHUNK),
        raw("Refunds are paid by carrier pigeon on Sundays.", CHUNK),
        raw("Refunds are paid within fourteen days."),  # cites nothing
    ]
    got = score("groundedness", rows)
    assert got == {"groundedness": pytest.approx(1 / 3), "grounded_rate": pytest.approx(1 / 3)}


def test_the_threshold_is_configurable_and_checked() -> None:
    half = [raw("Refunds are paid by carrier pigeon.", CHUNK)]  # 2 of 5 content words cited
    assert score("groundedness:0.9", half)["groundedness"] == 0.0
    assert score("groundedness:0.3", half)["groundedness"] == 1.0
    with pytest.raises(InvalidRequest, match="threshold must be in"):
        build_scorers(["groundedness:2"], [None])
    with pytest.raises(InvalidRequest, match="is not a number"):
        build_scorers(["groundedness:high"], [None])
