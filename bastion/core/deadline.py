"""Deadlines: an absolute monotonic instant carried with a call."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Final, Literal

from bastion.core.clock import Clock, SystemClock
from bastion.errors import InvalidRequest

SYSTEM_CLOCK: Final[Clock] = SystemClock()
_HEADER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Deadline:
    """The instant (on ``clock``) by which a call must be done; ``math.inf`` means never."""

    at: float
    clock: Clock = field(default=SYSTEM_CLOCK, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = SYSTEM_CLOCK) -> Deadline:
        return cls(clock.now() + seconds, clock)

    @classmethod
    def never(cls, *, clock: Clock = SYSTEM_CLOCK) -> Deadline:
        return cls(math.inf, clock)

    @classmethod
    def from_header(
        cls,
        value: str | float,
        *,
        clock: Clock = SYSTEM_CLOCK,
        bare_unit: Literal["s", "ms"] = "s",
        max_s: float | None = None,
    ) -> Deadline:
        """Parse a client's timeout (``"250ms"``, ``"1.5s"``, or a bare number in ``bare_unit``).

        Raises InvalidRequest for anything that is not a positive finite duration; ``max_s``
        caps what a client may ask for.
        """
        unit: str = bare_unit
        if isinstance(value, int | float):
            number = float(value)
        else:
            match = _HEADER.match(value)
            if match is None:
                raise InvalidRequest(f"timeout {value!r} is not a duration like 250ms or 1.5s")
            number, unit = float(match[1]), (match[2] or bare_unit).lower()
        seconds = number / 1000 if unit == "ms" else number
        if not math.isfinite(seconds) or seconds <= 0:
            raise InvalidRequest(f"timeout {value!r} must be a positive duration")
        if max_s is not None:
            seconds = min(seconds, max_s)
        return cls.after(seconds, clock=clock)

    def remaining(self) -> float:
        """Seconds left, never negative (``math.inf`` for a deadline that never comes)."""
        return max(0.0, self.at - self.clock.now())

    @property
    def expired(self) -> bool:
        return self.clock.now() >= self.at

    def min(self, other: Deadline) -> Deadline:
        """The earlier of two deadlines."""
        return self if self.at <= other.at else other

    def within(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that comes first (a per-attempt bound)."""
        return self.min(Deadline.after(seconds, clock=self.clock))
