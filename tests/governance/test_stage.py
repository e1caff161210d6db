"""The admit stage through a real pipeline fold, on in-process stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bastion.core.principal import Principal
from bastion.errors import BudgetExceeded, InvalidRequest, RateLimited
from bastion.governance import (
    AdmitStage,
    BudgetPolicy,
    Governance,
    MemoryBudgets,
    MemoryLimiter,
    PriceTable,
    RateLimitPolicy,
)
from bastion.governance.subject import Subject
from bastion.pipeline import Call, Result, build_pipeline
from bastion.pipeline.call import LlmRequest
from tests.governance.conftest import FakeClock

KEY = Principal("k1", "svc", "acme", frozenset({"client"}))


CENTS = {"chat": {"input_per_1m": 10_000}}  # $0.01 a prompt token: estimates in cents


def make_call(
    cost: float = 0.0, tokens: int | None = None, *, llm: LlmRequest | None = None
) -> Call:
    """A call to the ``chat`` group estimated at ``cost`` dollars (priced by ``CENTS``) and
    ``tokens`` tokens in all; ``llm`` gives the estimates directly."""
    if llm is None and (cost or tokens):
        prompt = round(cost * 100)
        llm = LlmRequest("chat", "chat", prompt, (tokens or prompt) - prompt)
    return Call("r1", "chat", "openai.chat", [{"x": 1}], False, 0.0, principal=KEY, llm=llm)


class Upstream:
    """The rest of the pipeline: records calls, reports the cost and tokens it is told to
    (as a target does), or fails."""

    def __init__(self, cost: float | None = None, tokens: int | None = None) -> None:
        self.cost, self.tokens, self.calls, self.fail = cost, tokens, 0, False

    async def __call__(self, call: Call) -> Result:
        self.calls += 1
        if self.fail:
            raise RuntimeError("upstream broke")
        call.cost_usd = self.cost
        if self.tokens is not None:
            call.usage = {"total_tokens": self.tokens}
        return Result(call.deployment, "m", 1, [])


def admit(
    clock: FakeClock,
    rate: list[dict[str, Any]],
    budgets: list[dict[str, Any]],
    prices: Any = None,
    *,
    concurrent: bool = False,
) -> tuple[AdmitStage, MemoryLimiter, MemoryBudgets]:
    limiter = MemoryLimiter(clock=clock)
    store = MemoryBudgets(clock=clock)
    stage = AdmitStage(
        limiter,
        RateLimitPolicy.from_config(rate),
        store,
        BudgetPolicy.from_config(budgets),
        PriceTable.from_config(CENTS if prices is None else prices),
        concurrent=concurrent,
    )
    return stage, limiter, store


async def test_rate_limit_headers_and_429(clock: FakeClock) -> None:
    stage, _, _ = admit(clock, [{"scope": "key", "limit": 2, "period_s": 60}], [])
    run = build_pipeline([stage], Upstream())
    first = make_call()
    await run(first)
    assert first.response_headers == {
        "x-ratelimit-limit-requests": "2",
        "x-ratelimit-remaining-requests": "1",
        "x-ratelimit-reset-requests": "30s",
    }
    await run(make_call())
    refused = make_call()
    with pytest.raises(RateLimited) as caught:
        await run(refused)
    assert caught.value.retry_after == pytest.approx(30.0)
    assert "key 'k1'" in caught.value.message
    assert refused.response_headers["x-ratelimit-remaining-requests"] == "0"


async def test_budget_is_reserved_then_committed_with_the_actual_cost(clock: FakeClock) -> None:
    rule = {"scope": "tenant", "window": "day", "limit_usd": 1.0, "thresholds": [0.5]}
    stage, _, store = admit(clock, [], [rule])
    upstream = Upstream(cost=0.6, tokens=120)
    call = make_call(0.9, 200)
    await build_pipeline([stage], upstream)(call)
    assert call.cost_usd == 0.6
    [event] = call.budget_events
    assert (event.scope, event.key, event.fraction) == ("tenant", "acme", 0.5)
    targets = BudgetPolicy.from_config([rule]).targets(Subject.of(call))
    [usage] = await store.usage(targets)
    assert (usage.spent.micros, usage.spent.tokens, usage.reserved.micros) == (600_000, 120, 0)
    with pytest.raises(BudgetExceeded):
        await build_pipeline([stage], upstream)(make_call(0.5))
    assert upstream.calls == 1


async def test_without_actuals_the_estimate_is_committed(clock: FakeClock) -> None:
    stage, _, _ = admit(clock, [], [{"scope": "key", "window": "month", "limit_usd": 1}])
    call = make_call(0.25)
    await build_pipeline([stage], Upstream())(call)
    assert call.cost_usd == 0.25
    assert call.budget_events == []


async def test_a_failed_call_releases_its_reservation(clock: FakeClock) -> None:
    stage, _, _ = admit(clock, [], [{"scope": "key", "window": "day", "limit_usd": 1}])
    upstream = Upstream()
    upstream.fail = True
    for _ in range(5):  # each would hold $0.60 if it were not released
        with pytest.raises(RuntimeError):
            await build_pipeline([stage], upstream)(make_call(0.6))
    upstream.fail = False
    await build_pipeline([stage], upstream)(make_call(0.6))


@pytest.mark.parametrize("concurrent", [False, True])
async def test_a_budget_refusal_refunds_the_rate_limits(clock: FakeClock, concurrent: bool) -> None:
    stage, _, _ = admit(
        clock,
        [{"scope": "key", "limit": 2, "period_s": 60}],
        [{"scope": "key", "window": "day", "limit_usd": 1}],
        concurrent=concurrent,
    )
    run = build_pipeline([stage], Upstream())
    await run(make_call(0.9))
    for _ in range(5):  # without refunds the second of these would be rate limited
        with pytest.raises(BudgetExceeded):
            await run(make_call(0.2))
    await run(make_call(0.1))  # the second request slot is still there


@pytest.mark.parametrize("concurrent", [False, True])
async def test_a_rate_limit_refusal_holds_no_budget_and_wins(
    clock: FakeClock, concurrent: bool
) -> None:
    rule = {"scope": "key", "window": "day", "limit_usd": 1}
    stage, _, store = admit(
        clock, [{"scope": "key", "limit": 1, "period_s": 60}], [rule], concurrent=concurrent
    )
    run = build_pipeline([stage], Upstream())
    await run(make_call(0.6))
    for cost in (0.3, 0.3, 0.3, 0.9):  # 0.9 is over the budget too: the 429 still comes first
        with pytest.raises(RateLimited):
            await run(make_call(cost))
    targets = BudgetPolicy.from_config([rule]).targets(Subject.of(make_call()))
    [usage] = await store.usage(targets)
    assert (usage.spent.micros, usage.reserved.micros) == (600_000, 0)  # nothing left held


async def test_tokens_are_estimated_then_settled(clock: FakeClock) -> None:
    stage, _, _ = admit(
        clock, [{"scope": "key", "unit": "tokens", "limit": 1000, "period_s": 60}], []
    )
    await build_pipeline([stage], Upstream(tokens=900))(make_call(tokens=100))
    with pytest.raises(RateLimited):  # 900 used, not the 100 estimated
        await build_pipeline([stage], Upstream())(make_call(tokens=200))
    with pytest.raises(InvalidRequest, match="more than the 1000"):
        await build_pipeline([stage], Upstream())(make_call(tokens=1001))


async def test_estimate_from_prices(clock: FakeClock) -> None:
    prices = {"chat": {"input_per_1m": 2.5, "output_per_1m": 10}}
    stage, _, _ = admit(clock, [], [{"scope": "key", "window": "day", "limit_usd": 0.01}], prices)
    call = make_call(llm=LlmRequest("chat", "chat", 1000, 500))
    await build_pipeline([stage], Upstream())(call)
    assert call.cost_usd == 0.0075
    with pytest.raises(BudgetExceeded):
        await build_pipeline([stage], Upstream())(
            make_call(llm=LlmRequest("chat", "chat", 1000, 500))
        )


async def test_governance_from_config_shares_stores_between_stages(clock: FakeClock) -> None:
    governance = Governance.from_config(
        {
            "rate_limits": {"rules": [{"scope": "tenant", "limit": 3, "period_s": 60}]},
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_requests": 100}]},
            "prices": {"default": {"per_prediction": 0.001}},
        },
        clock=clock,
        monotonic=clock,
    )
    chat, embed = governance.stage(), governance.stage()
    for stage in (chat, embed, chat):
        await build_pipeline([stage], Upstream())(make_call())
    with pytest.raises(RateLimited):
        await build_pipeline([embed], Upstream())(make_call())


async def test_a_stream_is_accounted_after_its_last_byte(clock: FakeClock) -> None:
    rule = {"scope": "key", "window": "day", "limit_usd": 1}
    stage, _, store = admit(clock, [], [rule])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: hi\n\n"

    async def streaming(call: Call) -> Result:
        return Result(call.deployment, "m", 1, [], stream=chunks())

    call = make_call(0.5)
    call.stream = True
    result = await build_pipeline([stage], streaming)(call)
    targets = BudgetPolicy.from_config([rule]).targets(Subject.of(call))
    assert (await store.usage(targets))[0].reserved.micros == 500_000  # still held
    assert result.stream is not None
    assert [c async for c in result.stream] == [b"data: hi\n\n"]
    call.cost_usd = 0.2  # what the target reported once the stream was over
    for finisher in call.finishers:  # what the adapter does once the stream is over
        await finisher(result, None)
    [usage] = await store.usage(targets)
    assert (usage.spent.micros, usage.reserved.micros) == (200_000, 0)
    assert call.cost_usd == 0.2


async def test_a_failure_after_billing_commits_what_was_reported(clock: FakeClock) -> None:
    rule = {"scope": "key", "window": "day", "limit_usd": 1}
    stage, _, store = admit(clock, [], [rule])

    async def billed_then_failed(call: Call) -> Result:
        call.cost_usd = 0.3
        raise RuntimeError("the output broke its contract")

    call = make_call(0.5)
    with pytest.raises(RuntimeError):
        await build_pipeline([stage], billed_then_failed)(call)
    targets = BudgetPolicy.from_config([rule]).targets(Subject.of(call))
    assert (await store.usage(targets))[0].spent.micros == 300_000


async def test_on_redis_the_checks_overlap_and_refusals_undo_the_other(
    redis: Any, prefix: str
) -> None:
    rule = {"scope": "key", "window": "day", "limit_usd": 1}
    governance = Governance.from_config(
        {
            "store": "redis",
            "key_prefix": prefix,
            "rate_limits": {"rules": [{"scope": "key", "limit": 2, "period_s": 60}]},
            "budgets": {"rules": [rule]},
            "prices": CENTS,
        },
        redis=redis,
    )
    assert governance.remote
    run = build_pipeline([governance.stage()], Upstream())
    await run(make_call(0.9))
    for _ in range(3):  # refused by the budget: the request slot is refunded each time
        with pytest.raises(BudgetExceeded):
            await run(make_call(0.2))
    await run(make_call(0.05))  # the second slot
    with pytest.raises(RateLimited):  # refused by the rate limit: no budget stays held
        await run(make_call(0.01))
    targets = BudgetPolicy.from_config([rule]).targets(Subject.of(make_call()))
    [usage] = await governance.budgets.usage(targets)
    assert (usage.spent.micros, usage.reserved.micros) == (950_000, 0)
