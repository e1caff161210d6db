"""The rate-limiter seam: a quota, one check against it, its decision, and the Protocol."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

MAX_UNITS = 10**12  # bounds on limit, burst and the time a full burst takes to drain:
MAX_SPAN_S = 10 * 365 * 86400  # together they keep the Lua (double) arithmetic exact


@dataclass(frozen=True, slots=True)
class Quota:
    """``limit`` units per ``period_s``, admitting up to ``burst`` (default ``limit``) at once."""

    limit: int
    period_s: float
    burst: int | None = None
    num: int = field(init=False, repr=False, compare=False)  # interval = num/den µs, reduced
    den: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_UNITS:
            raise ValueError(f"limit must be between 1 and {MAX_UNITS}, got {self.limit}")
        if not 0.001 <= self.period_s <= 400 * 86400:
            raise ValueError(f"period_s must be between 0.001 and 400 days, got {self.period_s}")
        if self.burst is not None and not 1 <= self.burst <= MAX_UNITS:
            raise ValueError(f"burst must be between 1 and {MAX_UNITS}, got {self.burst}")
        if self.capacity * self.period_s / self.limit > MAX_SPAN_S:
            raise ValueError("burst * period_s / limit must be at most ten years")
        period_us = round(self.period_s * 1_000_000)
        g = math.gcd(period_us, self.limit)
        object.__setattr__(self, "num", period_us // g)
        object.__setattr__(self, "den", self.limit // g)

    @property
    def capacity(self) -> int:
        """How many units may be admitted at once from a rested state."""
        return self.limit if self.burst is None else self.burst

    @property
    def interval(self) -> tuple[int, int]:
        """The emission interval as an exact fraction ``(num, den)`` of microseconds."""
        return self.num, self.den


@dataclass(frozen=True, slots=True)
class Check:
    """Charge ``cost`` units (requests, or tokens) to ``key`` under ``quota``."""

    key: str
    quota: Quota
    cost: int = 1


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one check.

    ``remaining``: units that could still be admitted now; ``reset_after_s``: time until the
    key is back to its rested state; ``retry_after_s``: time until this check's cost would
    fit (0 when it fits now, ``inf`` when it never can: cost above the burst).
    """

    allowed: bool
    remaining: int
    reset_after_s: float
    retry_after_s: float
    limit: int


class Limiter(Protocol):
    """A GCRA limiter; ``check_all`` charges every check or none of them."""

    async def check(self, key: str, cost: int = 1) -> Decision:
        """One check against the limiter's default quota."""
        ...

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        """All-or-nothing: if any check is refused, none is charged."""
        ...

    async def settle(self, checks: Sequence[Check]) -> None:
        """Charge (cost > 0) or refund (cost < 0) unconditionally, e.g. actual tokens."""
        ...
