"""Cells: lock-free per-request writers give the exposition prometheus_client's own calls give."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.values import MultiProcessValue

from bastion.observability.cells import counter_cell, histogram_cell
from bastion.observability.metrics import LATENCY_BUCKETS

AMOUNTS = [0.0, 0.0004, 0.0005, 0.00051, 0.003, 1.0, 59.9, 60.0, 61.0, math.inf, math.nan, 2.5]


def _metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    counter = Counter("bastion_t", "Tokens", ["deployment", "kind"], registry=registry)
    histogram = Histogram(
        "bastion_t_seconds", "Latency", ["deployment"], buckets=LATENCY_BUCKETS, registry=registry
    )
    return registry, counter, histogram


def _without_created(text: bytes) -> list[str]:
    """The exposition's lines but the ``_created`` timestamps (they differ between runs)."""
    return [line for line in text.decode().splitlines() if "_created" not in line]


def test_cells_expose_exactly_what_inc_and_observe_expose() -> None:
    public, c1, h1 = _metrics()
    fast, c2, h2 = _metrics()
    add, observe = counter_cell(c2.labels("chat", "prompt")), histogram_cell(h2.labels("chat"))
    assert add != c2.labels("chat", "prompt").inc  # the lock-free writer, not the public one
    for amount in AMOUNTS:
        h1.labels("chat").observe(amount)
        observe(amount)
        if not math.isnan(amount):
            c1.labels("chat", "prompt").inc(amount)
            add(amount)
    assert _without_created(generate_latest(fast)) == _without_created(generate_latest(public))
    openmetrics = generate_openmetrics(fast), generate_openmetrics(public)  # type: ignore[no-untyped-call]
    assert _without_created(openmetrics[0]) == _without_created(openmetrics[1])
    assert fast.get_sample_value("bastion_t_seconds_count", {"deployment": "chat"}) == 11


def test_a_counter_cell_refuses_a_negative_amount_as_inc_does() -> None:
    _, counter, _ = _metrics()
    add = counter_cell(counter.labels("chat", "cost"))
    with pytest.raises(ValueError):
        add(-1.0)
    with pytest.raises(ValueError):
        counter.labels("chat", "cost").inc(-1.0)


def test_values_in_multiprocess_files_are_written_through_the_public_methods(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several workers each value is an mmap file: no shortcut, the public calls."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    mmaped = MultiProcessValue()  # type: ignore[no-untyped-call]
    _, counter, histogram = _metrics()
    child = counter.labels("chat", "prompt")
    child._value = mmaped("counter", "bastion_t", "bastion_t_total", (), (), "")
    assert counter_cell(child) == child.inc
    hchild = histogram.labels("chat")
    hchild._sum = mmaped("histogram", "bastion_t_seconds", "bastion_t_seconds_sum", (), (), "")
    assert histogram_cell(hchild) == hchild.observe
