"""Folds a deployment's stages around its terminal handler, once, at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next, Stage


class _Bound:
    """``stage`` with its ``next`` bound: calling it returns the stage's own coroutine.

    A plain (not ``async``) ``__call__``, so a stage adds one coroutine frame to the request's
    await chain, not two: every time the innermost call waits (the upstream's answer, the
    audit commit) and resumes, the event loop walks that whole chain, frame by frame."""

    __slots__ = ("_next", "_stage")

    def __init__(self, stage: Stage, next: Next) -> None:
        self._stage = stage
        self._next = next

    def __call__(self, call: Call) -> Awaitable[Result]:
        return self._stage(call, self._next)


def build_pipeline(stages: Sequence[Stage], terminal: Next) -> Next:
    """Return one callable running ``stages`` in order, then ``terminal``.

    Folding happens in reverse so that ``stages[0]`` is outermost, as Starlette builds its
    middleware stack; the per-request cost is one plain call per stage.
    """
    handler = terminal
    for stage in reversed(stages):
        handler = _Bound(stage, handler)
    return handler
