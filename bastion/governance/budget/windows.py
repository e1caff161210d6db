"""UTC calendar windows: the id of the day or month an instant falls in, and when it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bastion.governance.budget.base import Window


def window_of(window: Window, now: float) -> tuple[str, float]:
    """``("2025-06-01", end)`` for a day, ``("2025-06", end)`` for a month; end in unix seconds."""
    moment = datetime.fromtimestamp(now, UTC)
    if window == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.strftime("%Y-%m-%d"), (start + timedelta(days=1)).timestamp()
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.strftime("%Y-%m"), end.timestamp()
