"""Claim leases: who may take an item and when, as SQL conditions, and why a claim failed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, true

from bastion.errors import Conflict, Forbidden, NotFound
from bastion.review.entities import QUEUE_ROLES, ReviewItem, Worker
from bastion.store.review_tables import ReviewItemRow as R


def free(now: datetime) -> ColumnElement[bool]:
    """Nobody holds a live lease on the item."""
    return or_(R.lease_until.is_(None), R.lease_until < now)


def held_by(worker: Worker, now: datetime) -> ColumnElement[bool]:
    """``worker`` holds a live lease on the item."""
    return and_(R.lease_owner == worker.key_id, R.lease_until >= now)


def free_or_mine(worker: Worker, now: datetime) -> ColumnElement[bool]:
    return or_(free(now), held_by(worker, now))


def in_scope(worker: Worker) -> ColumnElement[bool]:
    """The item belongs to one of the worker's tenants."""
    tenants = worker.tenants
    return true() if tenants is None else R.tenant.in_(sorted(tenants))


def workable(worker: Worker) -> ColumnElement[bool]:
    """The worker's roles reach the item's tier (first tier: reviewers and approvers)."""
    if worker.admin:
        return true()
    first = R.tier <= 1 if worker.roles & set(QUEUE_ROLES) else false()
    return or_(first, and_(R.tier >= 2, R.tier2_role.in_(sorted(worker.roles))))


def visible(item: ReviewItem | None, worker: Worker) -> ReviewItem:
    """The item, if it exists within the worker's tenants; else 404 (existence is not leaked)."""
    tenants = worker.tenants
    if item is None or (tenants is not None and item.tenant not in tenants):
        raise NotFound("no review item with that id in your tenant's queue; see GET /v1/review")
    return item


def explain(item: ReviewItem | None, worker: Worker, now: datetime) -> Exception:
    """Why a conditional update touched no row: the error to raise instead."""
    item = visible(item, worker)
    if not item.pending:
        return Conflict(
            f"review item {item.id} was already {item.status} by {item.decided_by or 'someone'}"
            f" at {item.decided_at:%Y-%m-%d %H:%M:%S}Z; an operator can still override it",
            details={"status": item.status},
        )
    if not worker.can_work_tier(item.tier, item.tier2_role):
        return Forbidden(
            f"review item {item.id} is at tier {item.tier}: it needs the role "
            f"'{item.tier2_role if item.tier > 1 else 'reviewer'}'"
        )
    if item.lease_until is not None and item.lease_until >= now:
        return Conflict(
            f"review item {item.id} is claimed by {item.claimed_by} until "
            f"{item.lease_until:%H:%M:%S}Z; take another item or wait for the lease to expire",
            details={"claimed_by": item.claimed_by},
        )
    if item.lease_until is None or item.lease_until < now:  # free: a release of nobody's claim
        return Conflict(
            f"review item {item.id} is not claimed by you (nobody holds it): nothing to "
            f"release; `bastion review claim {item.id}` takes it"
        )
    return Conflict(f"review item {item.id} changed while you acted on it; try again")
