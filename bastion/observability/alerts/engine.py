"""RuleEngine: per rule and subject, pending → firing after ``for_s``; an open episode (an
active alert, from any process or from before a restart) is firing at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bastion.observability.alerts.rules import Measure, dedupe_key, holds
from bastion.settings.alerts import AlertRuleSettings

Phase = Literal["pending", "firing"]


@dataclass(slots=True)
class _Track:
    since: float
    measure: Measure
    firing: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """A subject whose condition holds now; ``fired`` is True on the step it starts firing."""

    rule: AlertRuleSettings
    subject: str
    key: str
    measure: Measure
    phase: Phase
    fired: bool


class RuleEngine:
    """This process's view of every rule, like a Prometheus rule group's ``for:`` state.

    It decides nothing about notifying: the manager turns verdicts into database rows, where
    dedupe across processes happens. Time comes from the caller (monotonic seconds).
    """

    def __init__(self) -> None:
        self._tracks: dict[str, _Track] = {}
        self._last: dict[str, dict[str, tuple[Measure, str]]] = {}

    def step(
        self,
        rule: AlertRuleSettings,
        measures: dict[str, Measure],
        now: float,
        open_keys: frozenset[str] = frozenset(),
    ) -> list[Verdict]:
        """Advance ``rule`` with this round's measures; subjects missing from ``measures``
        (no data, or too little to judge) do not hold. A subject whose key is in ``open_keys``
        (its episode is open in the database) is firing as soon as it holds: it does not wait
        ``for_s`` again, and does not fire again."""
        verdicts: list[Verdict] = []
        seen: dict[str, tuple[Measure, str]] = {}
        holding: set[str] = set()
        for subject, measure in sorted(measures.items()):
            key = dedupe_key(rule.name, subject)
            if not holds(rule, measure):
                seen[subject] = (measure, "ok")
                continue
            holding.add(key)
            track = self._tracks.get(key)
            if track is None:
                track = self._tracks[key] = _Track(now, measure)
            track.measure = measure
            track.firing = track.firing or key in open_keys
            fired = not track.firing and now - track.since >= rule.for_s
            track.firing = track.firing or fired
            phase: Phase = "firing" if track.firing else "pending"
            seen[subject] = (measure, phase)
            verdicts.append(Verdict(rule, subject, key, measure, phase, fired))
        prefix = f"{rule.name}:"
        for key in [k for k in self._tracks if k.startswith(prefix) and k not in holding]:
            del self._tracks[key]
        self._last[rule.name] = seen
        return verdicts

    def forget(self, rule_names: set[str]) -> None:
        """Drop the state of rules no longer configured."""
        for name in [n for n in self._last if n not in rule_names]:
            del self._last[name]

    def snapshot(self, rule: AlertRuleSettings) -> list[dict[str, Any]]:
        """The last round's measures of ``rule``: value, samples and phase per subject."""
        return [
            {
                "subject": subject,
                "value": measure.value,
                "samples": measure.samples,
                "phase": phase,
                "details": measure.details,
            }
            for subject, (measure, phase) in sorted(self._last.get(rule.name, {}).items())
        ]
