"""Separation of duties on promotion gates: which eval-set version a gate uses (its pin, moved
only by approvals) and which approvals count (entitled for the model's owner, never from the
key asking for the promotion, the key that registered the version, or the author of a set
version the gate uses)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bastion.core.ownership import Ownership
from bastion.errors import NotFound
from bastion.evaluation.approvals import ApprovalStore
from bastion.evaluation.entities import Approval, EvalSet
from bastion.evaluation.pins import GatePins
from bastion.evaluation.sets import EvalSetStore, parse_ref


@dataclass(frozen=True, slots=True)
class Counted:
    """Approvals a gate counts, and those it set aside (with why), for its message."""

    keys: frozenset[str]
    approvers: tuple[str, ...]
    ignored: tuple[str, ...]


class Separation:
    def __init__(
        self,
        sets: EvalSetStore,
        approvals: ApprovalStore,
        pins: GatePins,
        ownership: Ownership,
    ) -> None:
        self._sets = sets
        self._approvals = approvals
        self.pins = pins
        self.ownership = ownership

    async def resolve(
        self, model: str, alias: str, ref: str, needed: int, owner: str | None
    ) -> EvalSet:
        """The set version a gate of ``model``'s ``alias`` uses for ``ref``: the version the
        ref names, else the gate's pin (made now if the gate has none). A newer version
        replaces the pin once ``needed`` entitled keys other than its author approved it."""
        name, version = parse_ref(ref)
        if version is not None:
            return await self._sets.get(name, version)
        newest = await self._sets.get(name)
        pin = await self.pins.get(model, alias, name)
        if pin is None:
            await self.pins.put(model, alias, newest)
            return newest
        for candidate in range(newest.version, pin[0], -1):
            try:
                eval_set = await self._sets.get(name, candidate)
            except NotFound:
                continue
            if await self._set_approved(eval_set, max(needed, 1), owner):
                await self.pins.put(model, alias, eval_set)
                return eval_set
        pinned = await self._sets.get(name, pin[0])
        if pinned.sha256 != pin[1]:
            raise NotFound(f"eval set {pinned.ref} no longer holds the content its gate pinned")
        return pinned

    async def _set_approved(self, eval_set: EvalSet, needed: int, owner: str | None) -> bool:
        approvals = await self.pins.set_approvals(eval_set.name, eval_set.version)
        keys = {
            a.key_id
            for a in approvals
            if a.key_id != eval_set.created_by_key
            and self.ownership.entitled_approver(a.key_id, a.tenant, owner)
        }
        return len(keys) >= needed

    async def count(
        self,
        model: str,
        version: int,
        owner: str | None,
        excluded: Iterable[str | None],
    ) -> Counted:
        """The approvals of ``model`` v``version`` that count for its owner."""
        barred = {k for k in excluded if k}
        counted: list[Approval] = []
        ignored: list[str] = []
        for a in await self._approvals.list_approvals(model, version):
            if a.key_id in barred:
                ignored.append(f"{a.approver} (asked for, registered or wrote its eval set)")
            elif not self.ownership.entitled_approver(a.key_id, a.tenant or "", owner):
                ignored.append(f"{a.approver} (not an approver for the model's tenant)")
            else:
                counted.append(a)
        return Counted(
            frozenset(a.key_id for a in counted),
            tuple(sorted({a.approver for a in counted})),
            tuple(ignored),
        )


def authors(sets: Sequence[EvalSet]) -> set[str | None]:
    return {s.created_by_key for s in sets}
