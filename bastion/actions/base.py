"""The seams of the action layer: what a destination offers, and what one attempt came to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from bastion.actions.compiled import CompiledCall

Verdict = Literal["ok", "retry", "permanent", "conflict"]


class ActionRejected(Exception):
    """Raised by a Python-callable destination: this action can never succeed (no retry)."""


class ActionConflict(Exception):
    """Raised by a Python-callable destination: someone else changed the target meanwhile."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended. ``retry`` may carry the receiver's ``Retry-After``."""

    verdict: Verdict
    status_code: int | None = None
    retry_after: float | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


class Destination(Protocol):
    """Somewhere action steps are delivered: an HTTP endpoint, a database, NATS, a callable.

    ``send`` renders ``call`` over ``ctx`` and delivers it once, carrying ``key`` (decision id
    + step) as its idempotency key; it never raises for a delivery failure, it reports it.
    ``reread`` asks it to refresh its concurrency token first (after a conflict).
    """

    name: str

    async def start(self) -> None: ...

    async def send(
        self, call: CompiledCall, ctx: Mapping[str, Any], key: str, *, reread: bool = False
    ) -> Outcome: ...

    async def aclose(self) -> None: ...
