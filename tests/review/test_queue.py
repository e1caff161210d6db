"""The queue in the database: atomic claims, leases that expire, tiers, tenants, SLA sweeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bastion.errors import Conflict, Forbidden, NotFound
from bastion.review import ReviewQueue, Worker
from bastion.store import Database
from bastion.store.review_tables import ReviewItemRow
from tests.review.conftest import FakeClock, principal


def _row(item_id: str, clock: FakeClock, **kw: object) -> ReviewItemRow:
    values: dict[str, object] = {
        "id": item_id,
        "request_id": "req-" + item_id,
        "item_index": 0,
        "deployment": "classifier",
        "model": "classifier",
        "version": 1,
        "tenant": "default",
        "requested_by": "client",
        "source": "review",
        "triggers": ["confidence"],
        "priority": 0,
        "tier": 1,
        "tier2_role": "approver",
        "status": "pending",
        "confidence": 0.2,
        "encrypted": False,
        "payload": b"{}",
        "created_at": clock(),
        "sla_due_at": clock() + timedelta(seconds=60),
        "reason": "",
        **kw,
    }
    return ReviewItemRow(**values)


def _worker(name: str, *roles: str, tenant: str = "default") -> Worker:
    return Worker.of(principal(name, *roles, tenant=tenant))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(database: Database, clock: FakeClock) -> ReviewQueue:
    return ReviewQueue(database, clock)


async def test_two_reviewers_racing_for_one_item_exactly_one_wins(
    queue: ReviewQueue, clock: FakeClock
) -> None:
    await queue.add([_row("a", clock)], "client")
    racers = [_worker(f"r{i}", "reviewer") for i in range(6)]
    outcomes = await asyncio.gather(
        *(queue.claim("a", w, 60) for w in racers), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if o not in winners)
    loser = next(w for w in racers if w.name != winners[0].claimed_by)
    with pytest.raises(Conflict, match="claimed by"):
        await queue.decide("a", loser, "approved", b"{}", "", {})


async def test_a_lease_expires_and_then_someone_else_may_claim(
    queue: ReviewQueue, clock: FakeClock
) -> None:
    await queue.add([_row("a", clock)], "client")
    alice, bob = _worker("alice", "reviewer"), _worker("bob", "reviewer")
    await queue.claim("a", alice, 60)
    with pytest.raises(Conflict):
        await queue.claim("a", bob, 60)
    clock.advance(61)
    item = await queue.claim("a", bob, 60)
    assert item.claimed_by == "bob"
    with pytest.raises(Conflict):  # alice's lease is gone: she may no longer decide
        await queue.decide("a", alice, "approved", b"{}", "", {})
    decided = await queue.decide("a", bob, "corrected", b"{}", "wrong label", {})
    assert (decided.status, decided.decided_by, decided.reason) == (
        "corrected",
        "bob",
        "wrong label",
    )
    with pytest.raises(Conflict, match="already corrected"):
        await queue.claim("a", alice, 60)
    actions = [(e.action, e.actor) for e in await queue.events("a")]
    assert actions == [
        ("queued", "client"),
        ("claimed", "alice"),
        ("claimed", "bob"),
        ("corrected", "bob"),
    ]


async def test_release_gives_the_item_back(queue: ReviewQueue, clock: FakeClock) -> None:
    await queue.add([_row("a", clock)], "client")
    alice, bob = _worker("alice", "reviewer"), _worker("bob", "reviewer")
    await queue.claim("a", alice, 60)
    with pytest.raises(Conflict):
        await queue.release("a", bob)
    await queue.release("a", alice)
    assert (await queue.claim("a", bob, 60)).claimed_by == "bob"


async def test_releasing_an_unclaimed_item_says_nobody_holds_it(
    queue: ReviewQueue, clock: FakeClock
) -> None:
    await queue.add([_row("a", clock)], "client")
    with pytest.raises(Conflict, match=r"not claimed by you \(nobody holds it\): nothing to"):
        await queue.release("a", _worker("alice", "reviewer"))
    assert (await queue.get("a")).status == "pending"  # type: ignore[union-attr]


async def test_tenants_never_see_each_others_items(queue: ReviewQueue, clock: FakeClock) -> None:
    await queue.add([_row("a", clock), _row("b", clock, tenant="acme")], "client")
    acme = _worker("ann", "reviewer", tenant="acme")
    assert [i.id for i in await queue.browse(acme)] == ["b"]
    with pytest.raises(NotFound):
        await queue.claim("a", acme, 60)
    with pytest.raises(NotFound):
        await queue.decide("a", acme, "approved", b"{}", "", {})
    admin = _worker("root", "admin", tenant="ops")
    assert {i.id for i in await queue.browse(admin)} == {"a", "b"}


async def test_claim_next_takes_the_most_urgent_then_the_oldest(
    queue: ReviewQueue, clock: FakeClock
) -> None:
    await queue.add([_row("old", clock)], "client")
    clock.advance(1)
    await queue.add([_row("new", clock), _row("urgent", clock, priority=30)], "client")
    w = _worker("alice", "reviewer")
    order = [(await queue.claim_next(w, 60)) for _ in range(3)]
    assert [i.id for i in order if i] == ["urgent", "old", "new"]
    assert await queue.claim_next(w, 60) is None


async def test_the_second_tier_needs_its_role(queue: ReviewQueue, clock: FakeClock) -> None:
    await queue.add([_row("a", clock)], "client")
    reviewer, approver = _worker("rita", "reviewer"), _worker("abe", "approver")
    await queue.escalate("a", reviewer, "unsure", 120)
    assert await queue.browse(reviewer)  # still listed, but not hers to work
    with pytest.raises(Forbidden, match="approver"):
        await queue.claim("a", reviewer, 60)
    assert await queue.claim_next(reviewer, 60) is None
    item = await queue.claim("a", approver, 60)
    assert (item.tier, item.claimed_by) == (2, "abe")


async def test_sla_sweep_moves_overdue_items_once(queue: ReviewQueue, clock: FakeClock) -> None:
    await queue.add([_row("a", clock), _row("b", clock)], "client")
    await queue.claim("b", _worker("rita", "reviewer"), 600)
    clock.advance(61)
    overdue = await queue.overdue(tier=1)
    assert {i.id for i in overdue} == {"a", "b"}
    system = _worker("system", "admin")
    for item in overdue:
        moved = await queue.escalate(item.id, system, "SLA", 60, action="sla_escalated")
        assert (moved.tier, moved.lease_until) == (2, None)
    with pytest.raises(Conflict):
        await queue.escalate("a", system, "SLA", 60, action="sla_escalated")
    assert await queue.overdue(tier=2) == []
    clock.advance(61)
    assert {i.id for i in await queue.overdue(tier=2)} == {"a", "b"}
    assert await queue.mark_breached("a") is True
    assert await queue.mark_breached("a") is False
    assert [i.id for i in await queue.overdue(tier=2)] == ["b"]
    assert await queue.backlog() == {"classifier": 2}
