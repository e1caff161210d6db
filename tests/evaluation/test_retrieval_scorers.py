"""recall@k and MRR over retrieval outputs with gold document ids."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.scorers import build_scorers


def _obs(outputs: list[object], expected: list[object]) -> Observations:
    return Observations(outputs, outputs, expected, [1.0] * len(outputs))


def test_recall_and_mrr_over_citations_and_plain_ids() -> None:
    outputs = [
        {
            "citations": [
                {"document_id": "a", "chunk_id": 1},
                {"document_id": "a"},
                {"document_id": "b"},
            ]
        },
        ["x", "y", "c"],
        [{"doc_id": "z"}],
        ["q"],  # no gold ids: left out
    ]
    expected = [["b", "d"], "c", "z", None]
    recall, mrr = build_scorers(["recall_at_k:2", "mrr"], expected)
    obs = _obs(outputs, expected)
    # row 1: gold {b, d}, first two distinct docs a, b → 1/2; row 2: c at rank 3 → 0; row 3: 1.
    assert recall.score(obs) == {"recall@2": pytest.approx((0.5 + 0 + 1) / 3)}
    # reciprocal ranks: b at 2 → 1/2; c at 3 → 1/3; z at 1 → 1.
    assert mrr.score(obs) == {"mrr": pytest.approx((1 / 2 + 1 / 3 + 1) / 3)}


def test_two_ks_are_two_scorers_and_a_bad_k_is_refused() -> None:
    assert len(build_scorers(["recall_at_k:1", "recall_at_k:5", "recall_at_k:5"], ["a"])) == 2
    with pytest.raises(InvalidRequest, match="K must be a whole number"):
        build_scorers(["recall_at_k:zero"], ["a"])
