"""The budget seam: usage amounts, windowed buckets, reservations, events and the Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bastion.governance.subject import Scope

if TYPE_CHECKING:
    from bastion.governance.budget.policy import BudgetTarget

Window = Literal["day", "month"]
BudgetUnit = Literal["usd", "requests", "tokens"]
UNITS: tuple[BudgetUnit, ...] = ("usd", "requests", "tokens")
MICROS_PER_USD = 1_000_000


@dataclass(frozen=True, slots=True)
class Usage:
    """An amount in every unit: money in integer micro-dollars, so sums never drift."""

    micros: int = 0
    requests: int = 0
    tokens: int = 0

    @property
    def amounts(self) -> tuple[int, int, int]:
        return self.micros, self.requests, self.tokens

    @property
    def usd(self) -> float:
        return self.micros / MICROS_PER_USD


@dataclass(frozen=True, slots=True)
class Bucket:
    """One budget rule applied to one subject in one calendar window."""

    scope: Scope
    subject: str
    window: Window
    window_id: str  # "2025-06-01" for a day, "2025-06" for a month (UTC)
    ends_at: float  # unix seconds
    limits: tuple[int | None, int | None, int | None]  # micros, requests, tokens
    thresholds: tuple[float, ...]

    @property
    def name(self) -> str:
        return f"{self.scope}:{self.window}:{self.window_id}:{self.subject}"


@dataclass(frozen=True, slots=True)
class Reservation:
    """What ``reserve`` set aside; hand it back to ``commit`` or ``release``."""

    id: str
    buckets: tuple[Bucket, ...]
    amount: Usage
    expires_at: float
    store: str = "primary"


@dataclass(frozen=True, slots=True)
class BucketUsage:
    bucket: Bucket
    spent: Usage
    reserved: Usage


@dataclass(frozen=True, slots=True)
class BudgetThresholdCrossed:
    """The first time in a window that spend reached ``fraction`` of a limit."""

    scope: Scope
    key: str
    window: str
    fraction: float
    spent: float  # USD for "usd", a count otherwise
    limit: float
    unit: BudgetUnit = "usd"


class BudgetStore(Protocol):
    """Reserve before the call, then commit the actual usage or release; exact when shared."""

    async def reserve(self, targets: Sequence[BudgetTarget], estimate: Usage) -> Reservation:
        """Set ``estimate`` aside in every target's current window, or raise BudgetExceeded."""
        ...

    async def commit(self, reservation: Reservation, actual: Usage) -> list[BudgetThresholdCrossed]:
        """Replace the reservation by ``actual`` (once); returns the thresholds it crossed."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Drop the reservation (the call failed): nothing is spent."""
        ...

    async def usage(self, targets: Sequence[BudgetTarget]) -> list[BucketUsage]:
        """Spent and reserved amounts in each target's current window."""
        ...
