"""The saga state machine: where one attempt's outcome takes an action (pure, no I/O).

Forward (status ``pending``): a step that succeeds moves to the next (the last → ``done``); a
retryable failure backs off (exponential, full jitter, at least the receiver's Retry-After)
until ``max_attempts``; a permanent failure — or the last attempt — turns the action around:
the completed steps are compensated in reverse (status ``compensating``), or, with none
completed, it is ``dead``. A conflict follows the action's policy: ``retry`` re-reads and
retries (as a retryable failure), ``review`` parks it as ``conflict`` for a human, ``fail``
fails the step for good. A compensation that fails for good leaves it ``dead``: never
reported as done, and shown step by step by ``bastion actions show``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bastion.actions.base import Outcome
from bastion.actions.compiled import CompiledAction
from bastion.settings.actions import DispatcherSettings


@dataclass(frozen=True, slots=True)
class State:
    status: str  # pending | compensating | done | compensated | dead | conflict
    step: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Transition:
    state: State
    next_at: datetime
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    immediate: bool = False  # due at once: the next step, or the next compensation

    @property
    def again_now(self) -> bool:
        return self.immediate and self.state.status in ("pending", "compensating")


@dataclass(frozen=True, slots=True)
class Backoff:
    settings: DispatcherSettings
    rng: Callable[[], float]

    def delay(self, attempts: int, retry_after: float | None) -> float:
        s = self.settings
        cap = min(s.backoff_max_s, s.backoff_base_s * 2.0 ** max(0, attempts - 1))
        delay = float(self.rng()) * cap  # full jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, s.retry_after_max_s))
        return delay


def advance(
    action: CompiledAction, state: State, outcome: Outcome, now: datetime, backoff: Backoff
) -> Transition:
    if state.status == "compensating":
        return _compensation(action, state, outcome, now, backoff)
    n = len(action.steps)
    if outcome.verdict == "ok":
        if state.step + 1 >= n:
            return Transition(State("done", n, 0), now)
        return Transition(State("pending", state.step + 1, 0), now, immediate=True)
    attempts = state.attempts + 1
    error = outcome.error or f"status {outcome.status_code}"
    if outcome.verdict == "conflict":
        if action.on_conflict == "review":
            details = {"conflict": dict(outcome.details), "phase": "forward"}
            return Transition(State("conflict", state.step, attempts), now, error, details)
        if action.on_conflict == "retry" and attempts < action.max_attempts:
            delay = backoff.delay(attempts, outcome.retry_after)
            return Transition(
                State("pending", state.step, attempts),
                now + timedelta(seconds=delay),
                error,
                {"reread": True},
            )
        return _turn_around(action, state, attempts, now, f"conflict: {error}")
    if outcome.verdict == "retry" and attempts < action.max_attempts:
        delay = backoff.delay(attempts, outcome.retry_after)
        return Transition(
            State("pending", state.step, attempts), now + timedelta(seconds=delay), error
        )
    return _turn_around(action, state, attempts, now, error)


def _turn_around(
    action: CompiledAction, state: State, attempts: int, now: datetime, error: str
) -> Transition:
    """Step ``state.step`` failed for good: compensate what was done, or die."""
    details = {"failed_step": action.steps[state.step].name, "phase": "forward"}
    back = first_compensable(action, state.step - 1)
    if back < 0:
        return Transition(State("dead", state.step, attempts), now, error, details)
    return Transition(State("compensating", back, 0), now, error, details, immediate=True)


def _compensation(
    action: CompiledAction, state: State, outcome: Outcome, now: datetime, backoff: Backoff
) -> Transition:
    if outcome.verdict == "ok":
        back = first_compensable(action, state.step - 1)
        if back < 0:
            return Transition(State("compensated", -1, 0), now)
        return Transition(State("compensating", back, 0), now, immediate=True)
    attempts = state.attempts + 1
    error = outcome.error or f"status {outcome.status_code}"
    if outcome.verdict == "retry" and attempts < action.max_attempts:
        delay = backoff.delay(attempts, outcome.retry_after)
        return Transition(
            State("compensating", state.step, attempts), now + timedelta(seconds=delay), error
        )
    details = {"phase": "compensate", "failed_step": action.steps[state.step].name}
    return Transition(
        State("dead", state.step, attempts),
        now,
        f"compensation of step {action.steps[state.step].name} failed: {error}",
        details,
    )


def first_compensable(action: CompiledAction, step: int) -> int:
    """The highest step at or below ``step`` that declares a compensation (-1: none)."""
    while step >= 0 and action.steps[step].compensate is None:
        step -= 1
    return step
