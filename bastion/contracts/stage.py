"""The validate stage: the batch bound and the chosen target's input contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.errors import InvalidRequest

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class ValidateStage:
    def __init__(self, max_batch: int) -> None:
        self._max_batch = max_batch

    async def __call__(self, call: Call, next: Next) -> Result:
        if not call.inputs:
            raise InvalidRequest("inputs: at least one input is required")
        if len(call.inputs) > self._max_batch:
            raise InvalidRequest(
                f"inputs: {len(call.inputs)} items exceed the batch limit of {self._max_batch}; "
                "split the request"
            )
        if call.target is not None:
            call.target.check_inputs(call.inputs, batched=call.batched)
        return await next(call)
