"""The terminal step: hand the Call to the target the route stage chose."""

from __future__ import annotations

from bastion.errors import BastionError
from bastion.pipeline.call import Call, Result


async def execute(call: Call) -> Result:
    if call.target is None:
        raise BastionError("no target was chosen for this call; the route stage must run first")
    return await call.target.run(call)
