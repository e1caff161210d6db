"""The validate stage: the batch bound and the chosen target's input contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bastion.errors import InvalidRequest

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class ValidateStage:
    """``max_batch`` bounds every call; ``per_deployment`` (a deployment's own ``max_batch``)
    bounds that deployment's calls more tightly."""

    def __init__(self, max_batch: int, per_deployment: Mapping[str, int] | None = None) -> None:
        self._max_batch = max_batch
        self._per_deployment = dict(per_deployment or {})

    async def __call__(self, call: Call, next: Next) -> Result:
        if not call.inputs:
            raise InvalidRequest("inputs: at least one input is required")
        limit = min(self._max_batch, self._per_deployment.get(call.deployment, self._max_batch))
        if len(call.inputs) > limit:
            raise InvalidRequest(
                f"inputs: {len(call.inputs)} items exceed the batch limit of {limit}; "
                "split the request"
            )
        if call.target is not None:
            call.target.check_inputs(call.inputs, batched=call.batched)
        return await next(call)
