"""The shapes of `bastion check`: an outcome, a check, the API it asks, what it knows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

Status = Literal["pass", "warn", "fail", "skip"]
SECTIONS = ("reliability", "observability", "security", "cost", "operations", "data", "model")


class Refused(Exception):
    """The server refused a request the check made (its status, error type and message)."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(f"{status} {type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message


class Api(Protocol):
    """The admin API of the server under audit (the CLI's client, raising ``Refused``)."""

    @property
    def base_url(self) -> str: ...

    def get(self, path: str, **params: Any) -> Any: ...

    def post(self, path: str, body: Any = None, **params: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's verdict. ``evidence``: what was seen; ``fix``: what to do (on warn/fail).

    ``automated`` is False when the item was met only by a person's step that the tool could
    not repeat itself; it then scores 0.5, as in Google's ML Test Score.
    """

    status: Status
    evidence: str
    fix: str = ""
    automated: bool = True

    @property
    def points(self) -> float:
        if self.status == "pass":
            return 1.0 if self.automated else 0.5
        return 0.5 if self.status == "warn" else 0.0


@dataclass(frozen=True, slots=True)
class Context:
    """What every check may use: the API, the server's facts (fetched once), the clock, and
    whether checks may act (dry-run rollback, test notification)."""

    api: Api
    facts: dict[str, Any]
    now: datetime
    drills: bool = True
    cache: dict[str, Any] = field(default_factory=dict)

    def once(self, path: str, **params: Any) -> Any:
        """GET ``path`` once per run (several checks read the same list)."""
        key = path + repr(sorted(params.items()))
        if key not in self.cache:
            self.cache[key] = self.api.get(path, **params)
        return self.cache[key]


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness item: its id, section, title, and the function that verifies it."""

    id: str
    section: str
    title: str
    run: Callable[[Context], Outcome]


@dataclass(frozen=True, slots=True)
class Result:
    check: Check
    outcome: Outcome


def age_days(iso: str, now: datetime) -> float:
    """Days between an ISO timestamp from the API and ``now``."""
    when = datetime.fromisoformat(iso)
    return (now - when) / timedelta(days=1)


def listed(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
