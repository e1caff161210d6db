"""`bastion check`: production-readiness items verified against a running server, scored.

The checks run in the CLI as clients of the admin API (``base.Api``); the server-side parts
they need — its facts, the rollback drill, the test notification, operation records — are
in ``facts.py``, ``drills.py`` and ``records.py``, served by ``api/operations.py``.
"""

from bastion.readiness.base import Api, Check, Context, Outcome, Refused, Result
from bastion.readiness.score import Score, run_checks, score

__all__ = [
    "Api",
    "Check",
    "Context",
    "Outcome",
    "Refused",
    "Result",
    "Score",
    "run_checks",
    "score",
]
