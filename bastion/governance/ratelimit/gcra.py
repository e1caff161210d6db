"""GCRA in exact integer arithmetic: time in microseconds scaled by the interval denominator."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bastion.governance.ratelimit.base import Check, Decision


@dataclass(frozen=True, slots=True)
class Plan:
    """One check in scaled units (1 unit = 1/den µs): increment and capacity are exact ints.

    The theoretical arrival time (TAT) of a key moves forward by ``inc`` per admitted check;
    a check fits when ``TAT - now + inc <= cap``.
    """

    check: Check
    num: int  # emission interval = num / den microseconds
    den: int
    inc: int  # cost * num
    cap: int  # burst * num

    @classmethod
    def of(cls, check: Check) -> Plan:
        q = check.quota
        return cls(check, q.num, q.den, check.cost * q.num, q.capacity * q.num)

    @property
    def possible(self) -> bool:
        """False when the cost exceeds the burst: no wait will ever make it fit."""
        return self.inc <= self.cap

    def fits(self, rel: int) -> bool:
        """Whether the check fits, given ``rel = max(TAT - now, 0)`` in scaled units."""
        return rel + self.inc <= self.cap

    def decide(self, rel: int, *, charged: bool) -> Decision:
        """The decision, given the TAT before the check (``rel``) and whether it was charged."""
        if not self.possible:
            return Decision(False, 0, self._seconds(rel), math.inf, self.check.quota.limit)
        after = rel + self.inc if charged else rel
        over = 0 if charged else max(rel + self.inc - self.cap, 0)
        return Decision(
            allowed=charged,
            remaining=max(self.cap - after, 0) // self.num,
            reset_after_s=self._seconds(after),
            retry_after_s=self._seconds(over),
            limit=self.check.quota.limit,
        )

    def _seconds(self, scaled: int) -> float:
        return scaled / (self.den * 1_000_000)
