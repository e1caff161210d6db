"""Running the checks and scoring them the way Google's ML Test Score does.

Each item scores 1 when verified automatically, 0.5 when met only by a manual step or only
partly (warn), 0 when it fails; skipped items (not applicable) do not count. A section's
score is the sum of its items; the final score is the lowest section's, so one neglected
section cannot hide behind the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bastion.readiness.base import SECTIONS, Check, Context, Outcome, Refused, Result


def run_checks(checks: Sequence[Check], ctx: Context) -> list[Result]:
    """Run each check; a refusal or a malformed answer fails that item, never the run."""
    results = []
    for check in checks:
        try:
            outcome = check.run(ctx)
        except Refused as exc:
            outcome = Outcome(
                "fail",
                f"the server refused: {exc.status} {exc.type}: {exc.message}",
                "use an admin key; check the server version",
            )
        except (KeyError, TypeError, ValueError) as exc:
            outcome = Outcome(
                "fail", f"unexpected answer from the server ({exc!r})", "upgrade bastion"
            )
        results.append(Result(check, outcome))
    return results


@dataclass(frozen=True, slots=True)
class Score:
    sections: dict[str, float]
    maxima: dict[str, float]
    final: float
    failed: int
    warned: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "final": self.final,
            "sections": {
                s: {"score": self.sections[s], "max": self.maxima[s]} for s in self.sections
            },
            "failed": self.failed,
            "warned": self.warned,
        }


def score(results: Sequence[Result]) -> Score:
    sections = {s: 0.0 for s in SECTIONS}
    maxima = {s: 0.0 for s in SECTIONS}
    for r in results:
        if r.outcome.status == "skip":
            continue
        sections[r.check.section] += r.outcome.points
        maxima[r.check.section] += 1.0
    counted = [sections[s] for s in SECTIONS if maxima[s] > 0]
    return Score(
        sections=sections,
        maxima=maxima,
        final=min(counted) if counted else 0.0,
        failed=sum(r.outcome.status == "fail" for r in results),
        warned=sum(r.outcome.status == "warn" for r in results),
    )
