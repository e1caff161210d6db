"""The terminal step: run the chosen backend and hold it to its output contract."""

from __future__ import annotations

from bastion.errors import ModelOutputInvalid
from bastion.pipeline.call import Call, Result


async def execute(call: Call) -> Result:
    target = call.target
    predictions = await target.backend.infer(call.inputs)
    if len(predictions) != len(call.inputs):
        raise ModelOutputInvalid(
            f"model {target.model} v{target.version} returned {len(predictions)} outputs "
            f"for {len(call.inputs)} inputs"
        )
    target.contract.check_outputs([p.output for p in predictions])
    return Result(call.deployment, target.model, target.version, predictions)
