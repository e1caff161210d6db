"""Rules from plain config, the subjects they apply to, and the OpenAI-style headers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bastion.core.principal import Principal
from bastion.errors import ConfigError
from bastion.governance import BudgetPolicy, RateLimitPolicy, Subject
from bastion.governance.budget.windows import window_of
from bastion.governance.ratelimit import Decision, LimitRule, rate_limit_headers
from bastion.governance.ratelimit.policy import format_duration
from bastion.pipeline import Call

RULES = [
    {"scope": "key", "unit": "requests", "limit": 60, "period_s": 60},
    {"scope": "key", "unit": "tokens", "limit": 10000, "period_s": 60, "burst": 2000},
    {"scope": "team", "unit": "requests", "limit": 600},
    {"scope": "tenant", "unit": "requests", "limit": 1000, "period_s": 3600},
    {"scope": "deployment", "unit": "requests", "limit": 5000},
]


@dataclass(frozen=True)
class TeamPrincipal:
    key_id: str
    tenant: str
    team: str


def test_rate_policy_from_config_makes_one_check_per_applicable_rule() -> None:
    policy = RateLimitPolicy.from_config({"rules": RULES})
    subject = Subject("k1", "acme", None, "chat")
    checks = policy.checks(subject, tokens=700)
    assert [c.key for _, c in checks] == [
        "key:requests:60/60/None:k1",
        "key:tokens:10000/60/2000:k1",
        "tenant:requests:1000/3600/None:acme",
        "deployment:requests:5000/60/None:chat",
    ]  # no team: the team rule is skipped
    assert [c.cost for _, c in checks] == [1, 700, 1, 1]
    with_team = policy.checks(Subject("k1", "acme", "ml", "chat"), tokens=0)
    assert "team:requests:600/60/None:acme/ml" in [c.key for _, c in with_team]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"scope": "org", "limit": 1}, "scope: 'org' is not one of"),
        ({"scope": "key", "unit": "bytes", "limit": 1}, "unit"),
        ({"scope": "key"}, "limit"),
        ({"scope": "key", "limit": 0}, "limit must be"),
        ({"scope": "key", "limit": 1, "per": 1}, "unknown field"),
    ],
)
def test_bad_rate_rules(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RateLimitPolicy.from_config([rule])


def test_duplicate_rules_are_rejected() -> None:
    with pytest.raises(ConfigError, match="twice"):
        RateLimitPolicy.from_config([RULES[0], RULES[0]])
    with pytest.raises(ConfigError, match="one rule per scope and window"):
        BudgetPolicy.from_config([{"scope": "key", "window": "day", "limit_usd": 1}] * 2)


def test_budget_policy_from_config() -> None:
    policy = BudgetPolicy.from_config(
        {
            "rules": [
                {"scope": "tenant", "window": "month", "limit_usd": 500, "thresholds": [0.8]},
                {"scope": "key", "window": "day", "limit_requests": 1000, "limit_tokens": 10**6},
                {"scope": "team", "window": "day", "limit_usd": 0.1},
            ]
        }
    )
    targets = policy.targets(Subject("k1", "acme", None, "chat"))
    assert [(t.rule.scope, t.subject) for t in targets] == [("tenant", "acme"), ("key", "k1")]
    assert targets[0].rule.limits == (500_000_000, None, None)
    assert policy.rules[2].limits == (100_000, None, None)
    with pytest.raises(ConfigError, match="at least one"):
        BudgetPolicy.from_config([{"scope": "key", "window": "day"}])
    with pytest.raises(ConfigError, match="window"):
        BudgetPolicy.from_config([{"scope": "key", "window": "week", "limit_usd": 1}])


def test_subject_of_a_call() -> None:
    call = Call("r", "chat", "openai", [], False, 0.0)
    assert Subject.of(call) == Subject("anonymous", "default", None, "chat")
    call.principal = Principal("k1", "svc", "acme", frozenset({"client"}))
    assert Subject.of(call) == Subject("k1", "acme", None, "chat")
    call.principal = TeamPrincipal("k2", "acme", "ml")
    assert Subject.of(call).id_for("team") == "acme/ml"


def test_headers_come_from_the_tightest_rule_per_unit() -> None:
    requests_min = LimitRule("key", "requests", 60, 60.0)
    requests_day = LimitRule("tenant", "requests", 1000, 86400.0)
    tokens = LimitRule("key", "tokens", 10000, 60.0)
    headers = rate_limit_headers(
        [
            (requests_min, Decision(True, 59, 1.0, 0.0, 60)),
            (requests_day, Decision(True, 12, 80000.0, 0.0, 1000)),
            (tokens, Decision(True, 9000, 6.0, 0.0, 10000)),
        ]
    )
    assert headers == {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "12",
        "x-ratelimit-reset-requests": "22h13m20s",
        "x-ratelimit-limit-tokens": "10000",
        "x-ratelimit-remaining-tokens": "9000",
        "x-ratelimit-reset-tokens": "6s",
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0ms"),
        (0.0201, "21ms"),
        (1.0, "1s"),
        (1.5, "1.5s"),
        (360.0, "6m0s"),
        (3723.5, "1h2m3.5s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_calendar_windows() -> None:
    from datetime import UTC, datetime

    leap = datetime(2024, 2, 29, 23, 0, tzinfo=UTC).timestamp()
    assert window_of("day", leap) == ("2024-02-29", datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    assert window_of("month", leap) == ("2024-02", datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    dec = datetime(2024, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    assert window_of("month", dec) == ("2024-12", datetime(2025, 1, 1, tzinfo=UTC).timestamp())
