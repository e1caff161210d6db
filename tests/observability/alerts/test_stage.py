"""SignalStage: what each finished call tells the alert signals, streams included.

Every test runs both ways the app may use it: as a stage of its own, and as the record
stage's ``finished`` listener (the app's way when the record stage is on).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from bastion.core.clock import FakeClock
from bastion.errors import InvalidRequest, NotFound, UpstreamError
from bastion.observability import RecordStage, Tracing
from bastion.observability.alerts import AlertManager, Notifier, SignalStage
from bastion.pipeline.build import build_pipeline
from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next
from bastion.settings.alerts import AlertSettings

Run = Callable[[Call, Next], Awaitable[Result]]


class _NoHistory:
    """The stage never touches the history; anything it called would fail the test."""


def _manager(**settings: Any) -> AlertManager:
    return AlertManager(
        AlertSettings.model_validate(settings),
        _NoHistory(),  # type: ignore[arg-type]
        Notifier(),
        clock=FakeClock(),
    )


def _call(routed: bool = True, deployment: str = "fraud") -> Call:
    call = Call("r1", deployment, "predict", [1], False, time.perf_counter())
    if routed:
        call.target = SimpleNamespace()  # type: ignore[assignment]
    return call


@pytest.fixture(params=["stage", "record listener"])
def form(request: pytest.FixtureRequest) -> Callable[[AlertManager], Run]:
    """How the signals are hooked in: ``SignalStage`` itself, or the record stage (metrics,
    log and tracing off) telling its ``done`` of each finished call."""

    def hooked(manager: AlertManager) -> Run:
        signals = SignalStage(manager)
        if request.param == "stage":
            return signals
        record = RecordStage(None, Tracing(), None, lambda _: True)

        def run(call: Call, terminal: Next) -> Awaitable[Result]:
            return build_pipeline(record.around([], [signals.done]), terminal)(call)

        return run

    return hooked


def _result(headers: dict[str, str] | None = None, stream: Any = None) -> Result:
    return Result("fraud", "fraud", 1, [], headers or {}, stream)


async def test_records_successes_failures_fallbacks_and_cost(
    form: Callable[[AlertManager], Run],
) -> None:
    manager = _manager()
    stage = form(manager)

    async def ok(call: Call) -> Result:
        call.cost_usd = 0.25
        return _result({"x-bastion-fallback": "backup"})

    async def crash(call: Call) -> Result:
        raise RuntimeError("bug")

    async def upstream(call: Call) -> Result:
        raise UpstreamError("upstream said 500")

    await stage(_call(), ok)
    for handler in (crash, upstream):
        with pytest.raises((RuntimeError, UpstreamError)):
            await stage(_call(), handler)
    stats = manager.recorder.window("fraud", 60)
    assert (stats.requests, stats.errors, stats.fallbacks) == (3, 2, 1)
    assert stats.cost_usd == pytest.approx(0.25)


async def test_client_errors_count_only_once_routed(form: Callable[[AlertManager], Run]) -> None:
    manager = _manager()
    stage = form(manager)

    async def bad_input(call: Call) -> Result:
        raise InvalidRequest("input: expected an object")

    async def unknown(call: Call) -> Result:
        raise NotFound("no deployment")

    with pytest.raises(InvalidRequest):
        await stage(_call(), bad_input)
    with pytest.raises(NotFound):  # junk names never take a slot in the recorder
        await stage(_call(routed=False, deployment="junk-123"), unknown)
    assert manager.recorder.deployments() == ["fraud"]
    stats = manager.recorder.window("fraud", 60)
    assert (stats.requests, stats.errors) == (1, 0)


async def test_cancelled_calls_are_not_an_outcome_of_ours(
    form: Callable[[AlertManager], Run],
) -> None:
    manager = _manager()

    async def gone(call: Call) -> Result:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await form(manager)(_call(), gone)
    assert manager.recorder.window("fraud", 60).requests == 0


async def test_a_stream_is_recorded_after_its_last_byte(
    form: Callable[[AlertManager], Run],
) -> None:
    manager = _manager()
    stage = form(manager)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: {}\n\n"

    async def streaming(call: Call) -> Result:
        return _result(stream=chunks())

    call = _call()
    await stage(call, streaming)
    assert manager.recorder.window("fraud", 60).requests == 0
    (finish,) = call.finishers
    call.cost_usd = 0.01
    await finish(None, UpstreamError("the stream broke"))
    stats = manager.recorder.window("fraud", 60)
    assert (stats.requests, stats.errors, stats.cost_usd) == (1, 1, 0.01)


async def test_budget_events_are_queued_only_when_a_budget_rule_exists(
    form: Callable[[AlertManager], Run],
) -> None:
    event = SimpleNamespace(scope="tenant", key="acme", window="2025-06", fraction=0.9)

    async def spend(call: Call) -> Result:
        call.budget_events = [event]
        return _result()

    without = _manager()
    await form(without)(_call(), spend)
    assert not without._events
    rule = {"name": "b", "kind": "budget", "threshold": 0.8}
    with_rule = _manager(rules=[rule])
    await form(with_rule)(_call(), spend)
    assert list(with_rule._events) == [("budget", ("fraud", event))]
