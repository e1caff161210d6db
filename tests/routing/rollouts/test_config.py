"""Rollout settings and plans: validation messages, stable hashing, weighted sticky arms."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.errors import ConfigError
from bastion.routing.rollouts.config import CanaryPlan, canary_plan, plans_from, unit
from bastion.settings import load_settings
from bastion.settings.rollouts import CanarySettings, RolloutsSettings


def _settings(*deployments: dict[str, Any]) -> RolloutsSettings:
    return load_settings(rollouts={"deployments": list(deployments)}).rollouts


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"shadow": {"share": 0.5}}, "exactly one of 'version' or 'alias'"),
        ({"shadow": {"version": 2, "alias": "staging"}}, "exactly one of 'version' or 'alias'"),
        ({"canary": {"steps": [50, 25, 100]}}, "steps must increase"),
        ({"canary": {"steps": [5, 50]}}, "last step must be 100"),
        ({"canary": {"steps": [0, 100]}}, "traffic percentage"),
        ({"ab": {"arms": [{"name": "a", "version": 1}]}}, "at least 2"),
        (
            {"ab": {"arms": [{"name": "a", "version": 1}, {"name": "a", "version": 2}]}},
            "repeated: a",
        ),
        ({"ab": {"arms": [{"name": "a"}, {"name": "b", "version": 2}]}}, "arm 'a' needs"),
        (
            {
                "canary": {},
                "ab": {"arms": [{"name": "a", "version": 1}, {"name": "b", "version": 2}]},
            },
            "configure one of them",
        ),
    ],
)
def test_bad_rollout_settings_say_what_is_wrong(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings({"deployment": "d", **section})


def test_one_entry_per_deployment() -> None:
    with pytest.raises(ConfigError, match="repeated: d"):
        _settings({"deployment": "d"}, {"deployment": "d"})


def test_plans_from_settings() -> None:
    settings = _settings(
        {"deployment": "s", "shadow": {"alias": "candidate", "share": 0.25}},
        {"deployment": "c", "canary": {"steps": [10, 100], "slo": {"max_p95_ms": 200}}},
        {
            "deployment": "a",
            "ab": {
                "arms": [
                    {"name": "a", "version": 1, "weight": 3},
                    {"name": "b", "alias": "challenger", "weight": 1},
                ],
                "sticky": {"entity_field": "customer"},
            },
        },
    )
    plans = plans_from(settings)
    assert plans["s"].shadow is not None and plans["s"].shadow.alias == "candidate"
    canary = plans["c"].canary
    assert canary is not None and canary.steps == (10.0, 100.0) and canary.slo.max_p95_ms == 200
    ab = plans["a"].ab
    assert ab is not None and ab.entity_field == "customer" and ab.bounds == (0.75, 1.0)
    assert (
        plans_from(
            _settings(
                {
                    "deployment": "x",
                    "ab": {"arms": [{"name": "a", "version": 1}, {"name": "b", "version": 2}]},
                }
            )
        )["x"].ab.entity_field
        is None
    )  # type: ignore[union-attr]


def test_canary_plan_round_trips_through_its_stored_form() -> None:
    plan = canary_plan(CanarySettings(steps=[5, 100], min_requests=7, slo={"max_error_rate": 0.1}))
    again = CanaryPlan.from_dict(plan.to_dict())
    assert again == plan
    assert canary_plan(None) == CanaryPlan()


def test_unit_hash_is_stable_and_uniform() -> None:
    assert unit("abc") == unit("abc")
    assert 0 <= unit("abc") < 1
    values = [unit(f"k{i}") for i in range(10_000)]
    assert 0.45 < sum(v < 0.5 for v in values) / len(values) < 0.55


def test_arms_follow_their_weights_and_stay_sticky() -> None:
    settings = _settings(
        {
            "deployment": "d",
            "ab": {
                "arms": [
                    {"name": "a", "version": 1, "weight": 3},
                    {"name": "b", "version": 2, "weight": 1},
                ]
            },
        }
    )
    ab = plans_from(settings)["d"].ab
    assert ab is not None
    picks = [ab.arm_for(f"user{i}", "d").name for i in range(8000)]
    assert 0.72 < picks.count("a") / len(picks) < 0.78
    assert all(ab.arm_for(f"user{i}", "d").name == picks[i] for i in range(100))
