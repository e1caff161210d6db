"""Rate-limit rules (scope x unit x quota), the checks they make, and OpenAI-style headers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bastion.errors import ConfigError
from bastion.governance.config_util import choice, rule_list, unknown_keys
from bastion.governance.ratelimit.base import Check, Decision, Quota
from bastion.governance.subject import SCOPES, Scope, Subject

Unit = Literal["requests", "tokens"]
UNITS: tuple[Unit, ...] = ("requests", "tokens")
_FIELDS = {"scope", "unit", "limit", "period_s", "burst"}


@dataclass(frozen=True, slots=True)
class LimitRule:
    """``limit`` requests (or tokens) per ``period_s`` for each key/team/tenant/deployment."""

    scope: Scope
    unit: Unit
    limit: int
    period_s: float
    burst: int | None = None

    def __post_init__(self) -> None:
        self.quota  # noqa: B018  (validates limit, period and burst)

    @property
    def quota(self) -> Quota:
        return Quota(self.limit, self.period_s, self.burst)

    def key(self, subject_id: str) -> str:
        """The counter's key; the subject comes last so no two rules can share a key."""
        return f"{self.scope}:{self.unit}:{self.limit}/{self.period_s:g}/{self.burst}:{subject_id}"


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    rules: tuple[LimitRule, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Sequence[Any] | None) -> RateLimitPolicy:
        """From ``{"rules": [{"scope": "key", "unit": "requests", "limit": 60, ...}]}``."""
        rules = []
        for i, raw in enumerate(rule_list(config, "rate_limits.rules")):
            where = f"rate_limits.rules[{i}]"
            unknown_keys(raw, _FIELDS, where)
            try:
                burst = raw.get("burst")
                rules.append(
                    LimitRule(
                        scope=choice(raw.get("scope"), SCOPES, f"{where}.scope"),
                        unit=choice(raw.get("unit", "requests"), UNITS, f"{where}.unit"),
                        limit=int(raw["limit"]),
                        period_s=float(raw.get("period_s", 60.0)),
                        burst=None if burst is None else int(burst),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: {exc}") from exc
        if len({r.key("") for r in rules}) != len(rules):
            raise ConfigError("rate_limits.rules: the same rule is listed twice")
        return cls(tuple(rules))

    @property
    def has_tokens(self) -> bool:
        return any(r.unit == "tokens" for r in self.rules)

    def checks(self, subject: Subject, tokens: int) -> list[tuple[LimitRule, Check]]:
        """One check per rule that applies: requests cost 1, tokens cost ``tokens``."""
        out = []
        for rule in self.rules:
            subject_id = subject.id_for(rule.scope)
            if subject_id is not None:
                cost = 1 if rule.unit == "requests" else tokens
                out.append((rule, Check(rule.key(subject_id), rule.quota, cost)))
        return out


def rate_limit_headers(results: Sequence[tuple[LimitRule, Decision]]) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` from the tightest rule."""
    headers: dict[str, str] = {}
    for unit in UNITS:
        decisions = [d for rule, d in results if rule.unit == unit]
        if not decisions:
            continue
        tight = min(decisions, key=lambda d: (d.remaining, -d.reset_after_s))
        headers[f"x-ratelimit-limit-{unit}"] = str(tight.limit)
        headers[f"x-ratelimit-remaining-{unit}"] = str(tight.remaining)
        headers[f"x-ratelimit-reset-{unit}"] = format_duration(tight.reset_after_s)
    return headers


def format_duration(seconds: float) -> str:
    """Like OpenAI's reset headers: ``20ms``, ``1s``, ``6m0s``, ``1h2m3.5s``."""
    ms = math.ceil(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
