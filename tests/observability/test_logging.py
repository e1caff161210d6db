"""Logging configuration: the timestamp every line carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bastion.observability.logging import UtcIsoStamper


@pytest.mark.parametrize(
    "at",
    [1765138259.0, 1765138259.5, 1765138259.123456, 1765138259.9999996, 1765138259.0000004]
    + [1765138259 + n / 7919 for n in range(1, 7919, 97)],
)
def test_the_timestamp_reads_as_structlogs_iso_utc_stamp(at: float) -> None:
    """Same text as ``TimeStamper(fmt="iso", utc=True)`` for the same instant."""
    expected = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    stamper = UtcIsoStamper(lambda: at)
    assert stamper(None, "info", {})["timestamp"] == expected
    assert stamper(None, "info", {})["timestamp"] == expected  # from the cached second too


def test_the_timestamp_moves_on_with_the_clock() -> None:
    clock = iter([1765138259.25, 1765138260.0, 1765224659.75])
    stamper = UtcIsoStamper(lambda: next(clock))
    stamps = [stamper(None, "info", {})["timestamp"] for _ in range(3)]
    assert stamps == [
        "2025-12-07T20:10:59.250000Z",
        "2025-12-07T20:11:00Z",
        "2025-12-08T20:10:59.750000Z",
    ]
