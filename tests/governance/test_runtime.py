"""Governance as the server builds it: settings, LLM group prices, what the admit stage reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bastion.core.principal import Principal
from bastion.errors import BudgetExceeded, ConfigError
from bastion.governance.budget.base import Usage
from bastion.governance.runtime import GovernanceRuntime, llm_group_prices
from bastion.governance.subject import Subject
from bastion.pipeline import Call, Result, build_pipeline
from bastion.pipeline.call import LlmRequest
from bastion.settings.governance import GovernanceSettings
from bastion.settings.llm import LlmSettings
from bastion.store import Database

KEY = Principal("k1", "svc", "acme", frozenset({"client"}), team="search")


def upstream(name: str, inp: float, out: float) -> dict[str, Any]:
    return {
        "name": name,
        "base_url": "http://127.0.0.1:9",
        "model": name,
        "input_price_per_1m": inp,
        "output_price_per_1m": out,
    }


LLM = LlmSettings(
    groups=[
        {
            "name": "cheap",
            "upstreams": [upstream("a", 1, 2), upstream("b", 3, 1)],
            "fallbacks": ["dear"],
        },
        {"name": "dear", "upstreams": [upstream("c", 10, 20)]},
    ]
)


def test_group_prices_cover_the_dearest_member_and_fallback() -> None:
    prices = llm_group_prices(LLM)
    assert prices["cheap"].input_per_token == Decimal(10) / 1_000_000
    assert prices["cheap"].output_per_token == Decimal(20) / 1_000_000
    assert prices["dear"].output_per_token == Decimal(20) / 1_000_000


def settings(**kw: Any) -> GovernanceSettings:
    return GovernanceSettings.model_validate(kw)


class Answer:
    """A target that reports what it is told (usage, cost_usd, served_by)."""

    def __init__(self, **reported: Any) -> None:
        self.reported = reported

    async def __call__(self, call: Call) -> Result:
        for name, value in self.reported.items():
            setattr(call, name, value)
        return Result(call.deployment, "m", 1, [])


def llm_call() -> Call:
    llm = LlmRequest("chat", "cheap", estimated_prompt_tokens=10, max_tokens=100)
    return Call("r", "cheap", "openai.chat", [{}], False, 0.0, principal=KEY, llm=llm)


async def test_llm_calls_reserve_from_group_prices_and_commit_the_reported_cost(
    database: Database,
) -> None:
    gov = GovernanceRuntime.build(
        settings(
            budgets={"rules": [{"scope": "team", "window": "day", "limit_usd": 0.0021}]},
            record_usage=False,
        ),
        LLM,
        database,
    )
    settled: list[Usage] = []
    stage = gov.governance.stage(on_settled=lambda _, u: settled.append(u))
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    call = llm_call()
    await build_pipeline([stage], Answer(usage=usage, cost_usd=0.00002, served_by="cheap"))(call)
    # estimate: 10 x $10/M + 100 x $20/M = $0.0021 (the whole budget); actual: $0.00002
    assert settled == [Usage(20, 1, 15)] and call.cost_usd == 0.00002
    (window,) = await gov.budget_usage(Subject("k1", "acme", "search", "cheap"))
    assert window.spent.micros == 20 and window.reserved.micros == 0
    with pytest.raises(BudgetExceeded):  # 20 + 2100 > 2100: the next estimate does not fit
        await build_pipeline([stage], Answer())(llm_call())
    await gov.aclose()


async def test_the_price_table_wins_for_listed_models_and_cache_hits_use_no_tokens(
    database: Database,
) -> None:
    gov = GovernanceRuntime.build(
        settings(
            prices={"cheap": {"input_per_1m": 100, "output_per_1m": 100}},
            budgets={"rules": [{"scope": "key", "window": "day", "limit_tokens": 10_000}]},
            record_usage=False,
        ),
        LLM,
        database,
    )
    settled: list[Usage] = []
    stage = gov.governance.stage(on_settled=lambda _, u: settled.append(u))
    usage = {"prompt_tokens": 10, "completion_tokens": 5}
    await build_pipeline([stage], Answer(usage=usage, cost_usd=1.0, served_by="cheap"))(llm_call())
    await build_pipeline([stage], Answer(cache="hit", cost_usd=0.0))(llm_call())
    assert settled == [Usage(1500, 1, 15), Usage(0, 1, 0)]
    await gov.aclose()


async def test_failed_calls_without_usage_settle_nothing(database: Database) -> None:
    gov = GovernanceRuntime.build(
        settings(budgets={"rules": [{"scope": "key", "window": "day", "limit_requests": 5}]}),
        LLM,
        database,
    )
    settled: list[Usage] = []
    stage = gov.governance.stage(on_settled=lambda _, u: settled.append(u))

    async def broken(call: Call) -> Result:
        raise RuntimeError("upstream broke")

    with pytest.raises(RuntimeError):
        await build_pipeline([stage], broken)(llm_call())
    assert settled == []
    (window,) = await gov.budget_usage(Subject("k1", "acme", "search", "cheap"))
    assert (window.spent.requests, window.reserved.requests) == (0, 0)
    await gov.aclose()


def test_settings_validate_rules() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="one rule per scope and window"):
        settings(budgets={"rules": [{"scope": "key", "window": "day", "limit_usd": 1}] * 2})
    with pytest.raises(ValidationError, match="at least one of"):
        settings(budgets={"rules": [{"scope": "key", "window": "day"}]})
    with pytest.raises(ValidationError):
        settings(rate_limits={"rules": [{"scope": "planet", "limit": 1}]})
    config = settings(rate_limits={"rules": [{"scope": "key", "limit": 3}]}).as_config()
    assert config["rate_limits"]["rules"] == [
        {"scope": "key", "unit": "requests", "limit": 3, "period_s": 60.0}
    ]


def test_redis_store_needs_a_reachable_url_only_when_used(database: Database) -> None:
    with pytest.raises(ConfigError, match="no Redis client"):
        from bastion.governance import Governance

        Governance.from_config({"store": "redis"})
