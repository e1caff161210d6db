"""Planning the encoder's runs by length: every text once, few padded tokens."""

from __future__ import annotations

import itertools
import random

import pytest

from bastion.backends.encoder_runs import plan_runs


def _cost(lengths: list[int], runs: list[list[int]], overhead: int) -> int:
    return sum(overhead + len(run) * max(lengths[i] for i in run) for run in runs)


def _check(lengths: list[int], runs: list[list[int]], max_texts: int) -> None:
    assert sorted(i for run in runs for i in run) == list(range(len(lengths)))
    assert all(1 <= len(run) <= max_texts for run in runs)
    for run in runs:
        assert [lengths[i] for i in run] == sorted(lengths[i] for i in run)


def test_no_texts_no_runs() -> None:
    assert plan_runs([], max_texts=32) == []


def test_equal_lengths_fill_runs_up_to_the_limit() -> None:
    runs = plan_runs([12] * 70, max_texts=32)
    _check([12] * 70, runs, 32)
    assert sorted(len(r) for r in runs) == [6, 32, 32]


def test_short_and_long_texts_run_apart() -> None:
    lengths = [200, 5, 7, 210, 6, 5]
    runs = plan_runs(lengths, max_texts=32)
    _check(lengths, runs, 32)
    assert [sorted(r) for r in runs] == [[1, 2, 4, 5], [0, 3]]


def test_a_high_run_cost_keeps_one_run() -> None:
    lengths = [5, 50]
    assert plan_runs(lengths, max_texts=32, overhead_tokens=1000) == [[0, 1]]
    assert plan_runs(lengths, max_texts=32, overhead_tokens=1) == [[0], [1]]


@pytest.mark.parametrize("seed", range(20))
def test_the_plan_is_the_cheapest_cut_of_the_sorted_texts(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.randint(3, 120) for _ in range(rng.randint(1, 9))]
    max_texts = rng.randint(1, 4)
    runs = plan_runs(lengths, max_texts=max_texts, overhead_tokens=16)
    _check(lengths, runs, max_texts)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best = min(
        _cost(lengths, [order[a:b] for a, b in itertools.pairwise((0, *cut, len(order)))], 16)
        for k in range(len(order))
        for cut in itertools.combinations(range(1, len(order)), k)
        if all(b - a <= max_texts for a, b in itertools.pairwise((0, *cut, len(order))))
    )
    assert _cost(lengths, runs, 16) == best


def test_max_texts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_texts must be at least 1"):
        plan_runs([1], max_texts=0)
