import pytest

from bastion.pipeline import Call, Next, Result, build_pipeline


class Tag:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def __call__(self, call: Call, next: Next) -> Result:
        self.log.append(f"{self.name}>")
        result = await next(call)
        self.log.append(f"<{self.name}")
        return result


class ShortCircuit:
    async def __call__(self, call: Call, next: Next) -> Result:
        return Result(call.deployment, "cached", 0, [])


def _call() -> Call:
    return Call("r1", "dep", "predict", [1], False, 0.0)


async def test_stages_run_in_order_around_terminal() -> None:
    log: list[str] = []

    async def terminal(call: Call) -> Result:
        log.append("terminal")
        return Result(call.deployment, "m", 1, [])

    pipeline = build_pipeline([Tag("a", log), Tag("b", log)], terminal)
    result = await pipeline(_call())
    assert log == ["a>", "b>", "terminal", "<b", "<a"]
    assert result.version == 1


async def test_a_stage_can_short_circuit() -> None:
    async def terminal(call: Call) -> Result:
        raise AssertionError("must not run")

    result = await build_pipeline([ShortCircuit()], terminal)(_call())
    assert result.model == "cached"


async def test_a_stage_adds_one_frame_to_the_await_chain_not_two() -> None:
    """Calling the pipeline returns the outermost stage's own coroutine (no wrapper per
    stage): each resume of the request walks the chain, so the chain stays short."""

    async def terminal(call: Call) -> Result:
        return Result(call.deployment, "m", 1, [])

    log: list[str] = []
    outer = Tag("a", log)
    coro = build_pipeline([outer, Tag("b", log)], terminal)(_call())
    try:
        assert coro.cr_code is Tag.__call__.__code__  # type: ignore[attr-defined]
    finally:
        result = await coro
    assert log == ["a>", "b>", "<b", "<a"]
    assert result.model == "m"


async def test_an_error_from_an_inner_stage_reaches_the_outer_ones() -> None:
    seen: list[str] = []

    class Catch:
        async def __call__(self, call: Call, next: Next) -> Result:
            try:
                return await next(call)
            except ValueError as exc:
                seen.append(str(exc))
                raise

    async def terminal(call: Call) -> Result:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await build_pipeline([Catch(), Tag("b", [])], terminal)(_call())
    assert seen == ["boom"]
