"""The admit stage: rate limits, then a budget reservation; reconciled after the call."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import InvalidRequest, RateLimited
from bastion.governance.budget.base import (
    MICROS_PER_USD,
    BudgetStore,
    BudgetThresholdCrossed,
    Reservation,
    Usage,
)
from bastion.governance.budget.policy import BudgetPolicy, usd_to_micros
from bastion.governance.budget.prices import PriceTable
from bastion.governance.outage import StoreUnavailable
from bastion.governance.ratelimit.base import Check, Limiter
from bastion.governance.ratelimit.policy import LimitRule, RateLimitPolicy, rate_limit_headers
from bastion.governance.subject import Subject

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result

log = structlog.get_logger(__name__)
Charged = Sequence[tuple[LimitRule, Check]]
_MICROS_MEMO = 4096


class AdmitStage:
    """Refuse over-limit calls before they cost anything; account for them after.

    Before the call it reads ``call.llm``'s token estimates (a call to an LLM group) or prices
    the deployment's model per input; after it (for a stream: in a finisher, after its last
    chunk) the ``usage``, ``served_by`` and ``cost_usd`` the target reported. It sets
    ``call.response_headers`` (rate-limit headers), the settled ``call.cost_usd`` and
    ``call.budget_events``.
    """

    def __init__(
        self,
        limiter: Limiter | None,
        rate_policy: RateLimitPolicy,
        budgets: BudgetStore | None,
        budget_policy: BudgetPolicy,
        prices: PriceTable,
        *,
        on_settled: Callable[[Call, Usage], None] | None = None,
        concurrent: bool = False,
    ) -> None:
        self._on_settled = on_settled
        self._concurrent = concurrent
        self._limiter = limiter if rate_policy.rules else None
        self._rate_policy = rate_policy
        self._budgets = budgets if budget_policy.rules else None
        self._budget_policy = budget_policy
        self._prices = prices
        self._micros: dict[float, int] = {}  # usd_to_micros of reported costs (they repeat)

    async def __call__(self, call: Call, next: Next) -> Result:
        tokens = call.llm.estimated_tokens if call.llm is not None else 0
        estimate = Usage(self._estimate_micros(call), 1, tokens)
        charged: Charged = ()
        reservation = None
        if self._limiter is not None or self._budgets is not None:  # else nothing to charge
            charged, reservation = await self._admit(call, Subject.of(call), estimate)
        try:
            result = await next(call)
        except BaseException:
            await self._account(call, reservation, estimate, charged, failed=True)
            raise
        if result.stream is None:
            await self._account(call, reservation, estimate, charged, failed=False)
            return result

        async def finish(_: Result | None, error: BaseException | None) -> None:
            await self._account(call, reservation, estimate, charged, failed=error is not None)

        call.finishers.append(finish)  # a stream's usage is known after its last byte
        return result

    async def _admit(
        self, call: Call, subject: Subject, estimate: Usage
    ) -> tuple[Charged, Reservation | None]:
        """Charge the rate limits and reserve the budget, or undo whichever passed and raise.

        In memory, one after the other (a refused rate limit reserves nothing). With remote
        stores (``concurrent``), both round trips at once: the request waits for one network
        latency instead of two; when either refuses, the other is undone, and a rate-limit
        refusal still wins, as it would have come first.
        """
        if not self._concurrent or self._limiter is None or self._budgets is None:
            charged = await self._rate_limit(call, subject, estimate.tokens)
            try:
                return charged, await self._reserve(subject, estimate)
            except BaseException:  # refused (or cancelled) before the call: refund the limits
                await self._settle_rate(charged, lambda c: -c.cost)
                raise
        rate, budget = await asyncio.gather(
            self._rate_limit(call, subject, estimate.tokens),
            self._reserve(subject, estimate),
            return_exceptions=True,
        )
        if isinstance(rate, BaseException):
            if not isinstance(budget, BaseException):
                await self._release(budget)
            raise rate
        if isinstance(budget, BaseException):
            await self._settle_rate(rate, lambda c: -c.cost)
            raise budget
        return rate, budget

    async def _account(
        self,
        call: Call,
        reservation: Reservation | None,
        estimate: Usage,
        charged: Charged,
        *,
        failed: bool,
    ) -> None:
        """Commit the actual usage (the estimate if none was reported); on a failure with
        nothing reported, release the reservation instead."""
        actual_cost, actual_tokens = self._reported(call)
        if failed and actual_cost is None and actual_tokens is None:
            if reservation is not None:
                await self._release(reservation)
            return
        actual = Usage(
            estimate.micros if actual_cost is None else actual_cost,
            1,
            estimate.tokens if actual_tokens is None else actual_tokens,
        )
        call.cost_usd = actual.micros / MICROS_PER_USD
        call.budget_events = [] if reservation is None else await self._commit(reservation, actual)
        if self._on_settled is not None:
            self._on_settled(call, actual)
        delta = actual.tokens - estimate.tokens
        if delta and charged:
            tokens_charged = [rc for rc in charged if rc[0].unit == "tokens"]
            await self._settle_rate(tokens_charged, lambda _: delta)

    def _reported(self, call: Call) -> tuple[int | None, int | None]:
        """What the call really cost (micro-dollars) and used (tokens), if it said.

        The target's ``usage`` (tokens) priced by the price table when it lists the answering
        model (``served_by``), else the target's own ``cost_usd``. A cache hit used no tokens.
        """
        usage = call.usage
        tokens: Any = None
        if usage is not None:
            tokens = usage.get("total_tokens") or (
                int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
            )
        if tokens is None and call.cached:
            tokens = 0
        served = call.served_by
        if usage is not None and served is not None and self._prices.lists(served):
            micros = self._prices.cost_micros(
                served,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
            return micros, _int_or_none(tokens)
        cost = call.cost_usd
        return (None if cost is None else self._to_micros(cost)), _int_or_none(tokens)

    def _to_micros(self, usd: float) -> int:
        """``usd_to_micros``, remembered for floats (a Decimal equal to a float may round
        otherwise, so only floats share an entry): the same prompt and answer sizes cost the
        same, and the conversion goes through Decimal."""
        if type(usd) is not float:
            return usd_to_micros(usd)
        found = self._micros.get(usd)
        if found is None:
            if len(self._micros) >= _MICROS_MEMO:
                self._micros.clear()
            found = self._micros[usd] = usd_to_micros(usd)
        return found

    async def _rate_limit(self, call: Call, subject: Subject, tokens: int) -> Charged:
        if self._limiter is None:
            return []
        pairs = self._rate_policy.checks(subject, tokens)
        decisions = await self._limiter.check_all([check for _, check in pairs])
        results = [(rule, d) for (rule, _), d in zip(pairs, decisions, strict=True)]
        headers = rate_limit_headers(results)
        call.response_headers.update(headers)
        if all(d.allowed for d in decisions):
            return pairs
        rule, worst = max(results, key=lambda rd: rd[1].retry_after_s)
        where = f"{rule.scope} '{subject.id_for(rule.scope)}'"
        if math.isinf(worst.retry_after_s):
            raise InvalidRequest(
                f"this request needs {tokens} tokens, more than the {rule.quota.capacity} that "
                f"the {where} limit admits at once; lower max_tokens or split the request"
            )
        raise RateLimited(
            f"rate limit of {rule.limit} {rule.unit} per {rule.period_s:g}s reached for {where}; "
            f"retry in {worst.retry_after_s:.2f}s",
            retry_after=worst.retry_after_s,
            details={"scope": rule.scope, "unit": rule.unit},
        )

    def _estimate_micros(self, call: Call) -> int:
        llm = call.llm
        model = (llm.model if llm is not None else None) or call.deployment
        if self._budgets is None or model not in self._prices:
            return 0
        return self._prices.cost_micros(
            model,
            prompt_tokens=llm.estimated_prompt_tokens if llm is not None else 0,
            completion_tokens=llm.max_tokens if llm is not None else 0,
            predictions=len(call.inputs),
        )

    async def _reserve(self, subject: Subject, estimate: Usage) -> Reservation | None:
        if self._budgets is None:
            return None
        targets = self._budget_policy.targets(subject)
        return await self._budgets.reserve(targets, estimate) if targets else None

    async def _commit(
        self, reservation: Reservation | None, actual: Usage
    ) -> list[BudgetThresholdCrossed]:
        if self._budgets is None or reservation is None:
            return []
        try:
            return list(await self._budgets.commit(reservation, actual))
        except StoreUnavailable:  # the call is done: answer it; the hold lapses at its TTL
            log.warning("budget_commit_failed", reservation=reservation.id)
            return []

    async def _release(self, reservation: Reservation | None) -> None:
        if self._budgets is None or reservation is None:
            return
        try:
            await self._budgets.release(reservation)
        except StoreUnavailable:
            log.warning("budget_release_failed", reservation=reservation.id)

    async def _settle_rate(self, charged: Charged, cost: Callable[[Check], int]) -> None:
        checks = [Check(c.key, c.quota, cost(c)) for _, c in charged if cost(c)]
        if self._limiter is None or not checks:
            return
        try:
            await self._limiter.settle(checks)
        except StoreUnavailable:
            log.warning("rate_limit_settle_failed", checks=len(checks))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
