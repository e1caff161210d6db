"""Ranks a group's upstreams for one attempt: priority tiers, then least-busy or weighted."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from bastion.gateway.member import Member
from bastion.resilience import BreakerState


def _weighted_order(members: list[Member], rand: Callable[[], float]) -> list[Member]:
    """Weighted random order without replacement (Efraimidis–Spirakis keys)."""
    keyed = [(rand() ** (1.0 / m.settings.weight), m) for m in members]
    return [m for _, m in sorted(keyed, key=lambda km: km[0], reverse=True)]


def rank(
    members: Sequence[Member],
    strategy: str,
    *,
    exclude: frozenset[str] = frozenset(),
    rand: Callable[[], float] = random.random,
) -> list[Member]:
    """Candidates in the order to try them; open breakers and ``exclude`` go last.

    Lower ``priority`` tiers come first; a higher tier is only reached when every member
    of the tiers before it is open or already tried in this request.
    """
    if len(members) == 1:  # the common group of one: every branch below gives [it]
        return [members[0]]
    fresh = [m for m in members if m.name not in exclude]
    pool = fresh or list(members)
    healthy = [m for m in pool if m.breaker.state is not BreakerState.OPEN]
    tiers = sorted({m.settings.priority for m in healthy})
    ordered: list[Member] = []
    for tier in tiers:
        tier_members = [m for m in healthy if m.settings.priority == tier]
        if strategy == "weighted":
            ordered += _weighted_order(tier_members, rand)
        else:
            ordered += sorted(tier_members, key=lambda m: (m.in_flight / m.settings.weight, rand()))
    return ordered + [m for m in pool if m not in ordered]
