"""Per-request writers for prometheus_client children: lock-free when one process owns them.

prometheus_client guards every in-memory value with a lock and checks its arguments on each
write (a histogram observation walks its buckets in Python): about a microsecond per write.
Bastion's per-request metrics are written by one thread only (the record stage, on the event
loop), so with one worker a write needs no lock: ``counter_cell`` and ``histogram_cell``
return writers that add straight to the child's own value objects. A scrape (in a worker
thread) reads those same objects through prometheus_client, so the exposition is the one the
public ``inc``/``observe`` would give. With several workers (prometheus multiprocess mode,
each value an mmap file) the writers are the public methods themselves.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.values import MutexValue

Add = Callable[[float], None]
"""Adds a non-negative amount to one counter child (``Counter.labels(...).inc``)."""

Observe = Callable[[float], None]
"""Records one observation in one histogram child (``Histogram.labels(...).observe``)."""


class _CounterCell:
    """One counter child's value, written without its lock."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def add(self, amount: float) -> None:
        if amount < 0:  # as Counter.inc refuses it
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        self._value._value += amount


class _HistogramCell:
    """One histogram child's buckets and sum, written without their locks. A bucket holds
    the observations at or below its bound and above the previous one, as in
    ``Histogram.observe`` (``bisect_left`` finds the first bound >= the amount)."""

    __slots__ = ("_bounds", "_buckets", "_sum")

    def __init__(self, bounds: list[float], buckets: list[Any], total: Any) -> None:
        self._bounds = bounds
        self._buckets = buckets
        self._sum = total

    def observe(self, amount: float) -> None:
        self._sum._value += amount
        if amount <= math.inf:  # NaN lands in no bucket, as in Histogram.observe
            self._buckets[bisect_left(self._bounds, amount)]._value += 1


def _in_memory(*found: Any) -> bool:
    return all(type(value) is MutexValue for value in found)


def counter_cell(child: Counter) -> Add:
    """A writer for ``child`` (a ``Counter.labels(...)`` result, or an unlabelled counter)."""
    value = getattr(child, "_value", None)
    if _in_memory(value):
        return _CounterCell(value).add
    return child.inc


def histogram_cell(child: Histogram) -> Observe:
    """A writer for ``child`` (a ``Histogram.labels(...)`` result)."""
    bounds = getattr(child, "_upper_bounds", None)
    buckets = getattr(child, "_buckets", None)
    total = getattr(child, "_sum", None)
    if bounds is not None and buckets is not None and _in_memory(total, *buckets):
        return _HistogramCell(list(bounds), list(buckets), total).observe
    return child.observe
