"""The validate stage: the batch bound and the chosen target's input contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bastion.errors import InvalidRequest

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class ValidateStage:
    """``max_batch`` bounds every call; ``per_deployment`` (a deployment's own ``max_batch``)
    bounds that deployment's calls more tightly. A batch job's calls (``api="batch"``, made
    only by jobs/scorer.py, never from a client's request) are bounded by ``job_batch``
    instead of ``max_batch``: larger calls spread each call's fixed cost (auth, limits,
    budget, audit record) over more rows. A deployment's own bound still applies to them."""

    def __init__(
        self,
        max_batch: int,
        per_deployment: Mapping[str, int] | None = None,
        job_batch: int | None = None,
    ) -> None:
        self._max_batch = max_batch
        self._per_deployment = dict(per_deployment or {})
        self._job_batch = job_batch or max_batch

    async def __call__(self, call: Call, next: Next) -> Result:
        if not call.inputs:
            raise InvalidRequest("inputs: at least one input is required")
        bound = self._job_batch if call.api == "batch" else self._max_batch
        limit = min(bound, self._per_deployment.get(call.deployment, bound))
        if len(call.inputs) > limit:
            raise InvalidRequest(
                f"inputs: {len(call.inputs)} items exceed the batch limit of {limit}; "
                "split the request"
            )
        if call.target is not None:
            call.target.check_inputs(call.inputs, batched=call.batched)
        return await next(call)
