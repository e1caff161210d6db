"""The promotion guard: gates on every alias move (API, CLI, canary), refusals that name each
failed gate, and the one way past them: an admin's explicit override with a reason."""

from __future__ import annotations

from collections.abc import Sequence

from bastion.errors import Forbidden, InvalidRequest, PromotionGateFailed
from bastion.evaluation.entities import GateFailure
from bastion.evaluation.gates import Gates


def refusal(
    model: str, version: int, alias: str, failures: Sequence[GateFailure], *, hint: bool = True
) -> PromotionGateFailed:
    reasons = "; ".join(f.describe() for f in failures)
    message = f"moving '{alias}' of {model} to v{version} was refused: {reasons}"
    if hint:
        message += " (an admin may override, with a reason)"
    return PromotionGateFailed(
        message,
        details={
            "model": model,
            "version": version,
            "alias": alias,
            "failed": [f.to_dict() for f in failures],
        },
    )


class PromotionGuard:
    def __init__(self, gates: Gates) -> None:
        self.gates = gates

    async def authorize(
        self,
        model: str,
        version: int,
        alias: str,
        *,
        admin: bool,
        override: bool = False,
        reason: str = "",
        requester: str | None = None,
    ) -> list[GateFailure]:
        """Allow moving ``alias`` to ``version`` or raise PromotionGateFailed (409).

        ``requester``: the key id asking (its own approval does not count). With
        ``override`` (admins only, 403 otherwise; a reason is required) the move is
        allowed anyway, and the gates it overrode are returned for the audit record.
        """
        if override and not admin:
            raise Forbidden("only an admin may override promotion gates")
        if override and not reason.strip():
            raise InvalidRequest(
                "reason: an override of promotion gates needs a reason (it is audited)",
                details={"field": "reason"},
            )
        failures = await self.gates.check(model, version, alias, requester=requester)
        if failures and not override:
            raise refusal(model, version, alias, failures)
        return failures

    async def canary_gate(self, model: str, version: int, alias: str, traffic: bool) -> None:
        """The rollouts' hook: at a canary's start (``traffic=False``: gates that need live
        traffic wait) and before its final promotion (every gate)."""
        failures = await self.gates.check(model, version, alias, traffic=traffic)
        if failures:
            raise refusal(model, version, alias, failures, hint=False)
