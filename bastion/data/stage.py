"""The data stages: the live schema watch, and a deployment's data contract on each input.

Runs after the input contract (the JSON schema) has passed. Per the deployment's policy, a
breaking input is refused (422 naming the rule; nothing is answered) or answered and held in
the quarantine (queued in memory, written in batches). Absent when no contract is declared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.data.contracts import DataContracts
from bastion.data.quarantine import Quarantined, QuarantineWriter
from bastion.data.rate import QuarantineRate
from bastion.data.rules import check_row
from bastion.data.watch import SchemaWatch
from bastion.errors import InvalidRequest

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class DataValidateStage:
    def __init__(
        self, contracts: DataContracts, writer: QuarantineWriter, rate: QuarantineRate
    ) -> None:
        self._contracts = contracts
        self._writer = writer
        self._rate = rate

    async def __call__(self, call: Call, next: Next) -> Result:
        contract = self._contracts.contract(call.deployment)
        if contract is None or call.api in ("batch", "replay"):  # these screen rows first
            return await next(call)
        rules = self._contracts.rules(call.deployment, call.version)
        bad = 0
        for i, value in enumerate(call.inputs):
            violations = check_row(rules, value)
            if not violations:
                continue
            bad += 1
            if contract.policy == "reject":
                self._rate.count(call.deployment, i + 1, 1)
                first = violations[0]
                where = f"inputs[{i}]" if call.batched else "input"
                raise InvalidRequest(
                    f"{where}: breaks data rule '{first.rule}': {first.message}",
                    details={"rule": first.rule, "field": first.field},
                )
            tenant = getattr(call.principal, "tenant", None)
            self._writer.hold(
                Quarantined(
                    tenant,
                    call.deployment,
                    call.version,
                    "online",
                    call.request_id,
                    i,
                    value,
                    violations,
                )
            )
        self._rate.count(call.deployment, len(call.inputs), bad)
        return await next(call)


class SchemaWatchStage:
    """Before the input schema is checked: live inputs feed the deployment's schema watch,
    so that a renamed field is seen even while the schema refuses it."""

    def __init__(self, contracts: DataContracts, watch: SchemaWatch) -> None:
        self._contracts = contracts
        self._watch = watch

    async def __call__(self, call: Call, next: Next) -> Result:
        if call.deployment in self._contracts and call.api not in ("batch", "replay"):
            contract = getattr(call.target, "contract", None)
            schema = getattr(contract, "input_schema", None)
            profile = self._contracts.profile(call.deployment, call.version)
            self._watch.feed(call.deployment, call.inputs, schema, profile)
        return await next(call)
