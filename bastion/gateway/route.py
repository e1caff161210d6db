"""One streamed request's way down its chain: opening (silent upstreams skipped, hedged when
slow) and, when a stream breaks after part of its answer went out, where it continues."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog

from bastion.core.deadline import Deadline
from bastion.errors import BastionError, ContextLengthExceeded, InvalidRequest
from bastion.gateway.group import Attempts, BodyFor, ModelGroup, OpenStream, Variant, plain
from bastion.gateway.hedging import race
from bastion.gateway.member import Member

log = structlog.get_logger(__name__)
Opened = tuple[ModelGroup, OpenStream]


@dataclass(slots=True)
class StreamRoute:
    """The groups still to try (in chain order), what each tried, and what hedges cost."""

    queue: list[ModelGroup]
    context_fallback: ModelGroup | None
    body: dict[str, Any]  # what every upstream is asked (usage always included)
    deadline: Deadline
    prompt_estimate: int
    max_switches: int = 3
    switches: int = 0
    hedge_costs: dict[str, float] = field(default_factory=dict)
    _attempts: dict[str, Attempts] = field(default_factory=dict)

    def attempts(self, group: ModelGroup) -> Attempts:
        return self._attempts.setdefault(group.name, Attempts())

    async def open(self) -> Opened:
        """The first stream to send a chunk, down the chain; raises the last error."""
        last: BastionError | None = None
        tried_context = False
        while self.queue:
            group = self.queue.pop(0)
            try:
                return await self._open_hedged(group)
            except InvalidRequest as exc:  # the client's fault: another model would refuse too
                if not isinstance(exc, ContextLengthExceeded) or tried_context:
                    raise
                if self.context_fallback is None:
                    raise
                tried_context, self.queue, last = True, [self.context_fallback], exc
            except BastionError as exc:
                last = exc
        assert last is not None
        raise last

    async def _open_hedged(self, group: ModelGroup) -> Opened:
        att = self.attempts(group)
        primary = self._opener(group, plain(self.body), att)
        delay = group.hedge_delay_s()
        if delay is None or group.hedge_budget is None:
            return await primary
        group.hedge_budget.record_request()
        hedge_att: list[Attempts] = []
        hedge_group: list[ModelGroup] = []

        def start_hedge() -> Any:
            found = self._hedge_target(group)
            if found is None:
                return None
            target, fresh_only, target_att = found
            hedge_att.append(target_att)
            hedge_group.append(target)
            group.note_hedge("started")
            log.info("stream_hedged", group=group.name, to=target.name, after_s=round(delay, 3))
            return self._opener(target, plain(self.body), target_att, fresh_only=fresh_only)

        async def discard(opened: Opened) -> None:
            await opened[1].close(None, blame=False)

        outcome = await race(primary, start_hedge, delay, discard)
        if outcome.hedged:
            group.note_hedge("won")
        elif hedge_group and hedge_group[0] is not group and outcome.loser == "dropped":
            self.queue.insert(0, hedge_group[0])  # cut short, not failed: it may yet continue
        if outcome.loser == "dropped":  # it was asked and cut short: its prompt was likely billed
            loser_att = att if outcome.hedged else hedge_att[0]
            self._bill_prompt(loser_att.last)
        return outcome.winner

    def _hedge_target(self, group: ModelGroup) -> tuple[ModelGroup, bool, Attempts] | None:
        """Another upstream of the group not yet tried, else the next group, if the hedge
        budget allows one more hedge."""
        att = self.attempts(group)
        same = group.has_candidate(att, fresh_only=True)
        if not same and not self.queue:
            return None
        assert group.hedge_budget is not None
        if not group.hedge_budget.try_withdraw():
            log.info("stream_hedge_skipped", group=group.name, reason="budget")
            return None
        if same:  # its own record of the pick, sharing what the request tried
            return group, True, Attempts(att.tried, att.silent)
        target = self.queue.pop(0)
        return target, False, self.attempts(target)

    def _bill_prompt(self, member: Member | None) -> None:
        if member is not None:
            cost = member.cost({"prompt_tokens": self.prompt_estimate, "completion_tokens": 0})
            self.hedge_costs[member.name] = self.hedge_costs.get(member.name, 0.0) + cost

    async def _opener(
        self, group: ModelGroup, bodies: BodyFor, att: Attempts, *, fresh_only: bool = False
    ) -> Opened:
        opened = await group.open_stream(
            bodies, self.deadline, attempts=att, fresh_only=fresh_only, retry=not fresh_only
        )
        return group, opened

    async def resume(self, broken: ModelGroup, delivered: str, deltas: int) -> Opened | None:
        """Where a stream broken after ``delivered`` went out continues: another upstream of
        its group, then the groups after it, then (a last retry) the one that broke. None when
        no upstream can continue it (or the request has switched ``max_switches`` times)."""
        if self.switches >= self.max_switches:
            return None
        self.switches += 1
        bodies = self._continuation_bodies(delivered, deltas)
        candidates = [(broken, True), *((g, False) for g in self.queue), (broken, False)]
        for group, fresh_only in candidates:
            if group in self.queue:
                self.queue.remove(group)
            try:
                opened = await group.open_stream(
                    bodies,
                    self.deadline,
                    attempts=self.attempts(group),
                    fresh_only=fresh_only,
                    usable=_continues,
                )
            except BastionError as exc:
                log.info("stream_continuation_failed", group=group.name, error=exc.type)
                continue
            return group, opened
        return None

    def _continuation_bodies(self, delivered: str, deltas: int) -> BodyFor:
        restart: Variant = ("restart", self.body)
        if not delivered:
            return lambda _member: [restart]

        def bodies(member: Member) -> list[Variant]:
            if member.settings.continuation != "prefill":
                return [restart]
            messages = [*self.body.get("messages", []), {"role": "assistant", "content": delivered}]
            prefill = {**self.body, **member.settings.prefill_body, "messages": messages}
            for key in ("max_tokens", "max_completion_tokens"):  # what the client has had counts
                if isinstance(prefill.get(key), int):
                    prefill[key] = max(1, prefill[key] - deltas)
            return [("prefill", prefill), restart]

        return bodies


def _continues(member: Member) -> bool:
    return member.settings.continuation != "none"
