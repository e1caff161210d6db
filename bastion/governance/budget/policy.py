"""Budget rules (scope x window x limits x thresholds) and the targets they make for a call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from bastion.errors import ConfigError
from bastion.governance.budget.base import MICROS_PER_USD, Bucket, Window
from bastion.governance.budget.windows import window_of
from bastion.governance.config_util import choice, rule_list, unknown_keys
from bastion.governance.subject import SCOPES, Scope, Subject

WINDOWS: tuple[Window, ...] = ("day", "month")
_FIELDS = {"scope", "window", "limit_usd", "limit_requests", "limit_tokens", "thresholds"}


def usd_to_micros(usd: float | Decimal | str) -> int:
    """Dollars to integer micro-dollars (rounded up), through Decimal: 0.1 stays 100000."""
    return int((Decimal(str(usd)) * MICROS_PER_USD).to_integral_value(ROUND_CEILING))


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """Per ``scope`` subject and calendar ``window``: limits in USD, requests and/or tokens."""

    scope: Scope
    window: Window
    limit_usd: float | None = None
    limit_requests: int | None = None
    limit_tokens: int | None = None
    thresholds: tuple[float, ...] = (0.5, 0.8, 1.0)

    def __post_init__(self) -> None:
        limits = (self.limit_usd, self.limit_requests, self.limit_tokens)
        if all(v is None for v in limits):
            raise ValueError("set at least one of limit_usd, limit_requests, limit_tokens")
        if any(v is not None and v < 0 for v in limits):
            raise ValueError("limits must be >= 0")
        if any(not 0 < f <= 10 for f in self.thresholds):
            raise ValueError("thresholds are fractions of the limit in (0, 10]")

    @property
    def limits(self) -> tuple[int | None, int | None, int | None]:
        usd = None if self.limit_usd is None else usd_to_micros(self.limit_usd)
        return usd, self.limit_requests, self.limit_tokens


@dataclass(frozen=True, slots=True)
class BudgetTarget:
    """A rule applied to one subject (a key id, ``tenant/team``, tenant or deployment)."""

    rule: BudgetRule
    subject: str

    def bucket(self, now: float) -> Bucket:
        window_id, ends_at = window_of(self.rule.window, now)
        return Bucket(
            self.rule.scope,
            self.subject,
            self.rule.window,
            window_id,
            ends_at,
            self.rule.limits,
            tuple(sorted(set(self.rule.thresholds))),
        )


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    rules: tuple[BudgetRule, ...] = ()

    def __post_init__(self) -> None:
        if len({(r.scope, r.window) for r in self.rules}) != len(self.rules):
            raise ConfigError("budgets.rules: one rule per scope and window; merge the limits")

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Sequence[Any] | None) -> BudgetPolicy:
        """From ``{"rules": [{"scope": "tenant", "window": "month", "limit_usd": 500}]}``."""
        rules = []
        for i, raw in enumerate(rule_list(config, "budgets.rules")):
            where = f"budgets.rules[{i}]"
            unknown_keys(raw, _FIELDS, where)
            try:
                rules.append(
                    BudgetRule(
                        scope=choice(raw.get("scope"), SCOPES, f"{where}.scope"),
                        window=choice(raw.get("window"), WINDOWS, f"{where}.window"),
                        limit_usd=_opt(raw, "limit_usd", float),
                        limit_requests=_opt(raw, "limit_requests", int),
                        limit_tokens=_opt(raw, "limit_tokens", int),
                        thresholds=tuple(float(f) for f in raw.get("thresholds", (0.5, 0.8, 1.0))),
                    )
                )
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: {exc}") from exc
        return cls(tuple(rules))

    def targets(self, subject: Subject) -> list[BudgetTarget]:
        """One target per rule that applies (a team rule is skipped for a key with no team)."""
        out = []
        for rule in self.rules:
            subject_id = subject.id_for(rule.scope)
            if subject_id is not None:
                out.append(BudgetTarget(rule, subject_id))
        return out


def _opt(raw: Mapping[str, Any], name: str, kind: type[float] | type[int]) -> Any:
    value = raw.get(name)
    return None if value is None else kind(value)
