"""Folds a deployment's stages around its terminal handler, once, at start-up."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next, Stage


async def _step(stage: Stage, inner: Next, call: Call) -> Result:
    return await stage(call, inner)


def build_pipeline(stages: Sequence[Stage], terminal: Next) -> Next:
    """Return one callable running ``stages`` in order, then ``terminal``.

    Folding happens in reverse so that ``stages[0]`` is outermost, as Starlette builds its
    middleware stack; the per-request cost is one partial call per stage.
    """
    handler = terminal
    for stage in reversed(stages):
        handler = partial(_step, stage, handler)
    return handler
