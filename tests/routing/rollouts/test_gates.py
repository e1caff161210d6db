"""Canaries and promotion gates: refused at start (except gates that need traffic), and
rolled back — with an audit record and an alert naming the gate — when the final promotion
is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bastion.errors import PromotionGateFailed
from bastion.evaluation import GateFailure, refusal
from tests.routing.rollouts.conftest import Env
from tests.routing.rollouts.test_service import CANARY, SHADOW, _traffic


class FakeGate:
    """Stands in for the evaluation's gate: refuses while ``failing`` (per traffic flag)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str, bool]] = []
        self.failing: dict[bool, str | None] = {False: None, True: None}

    async def __call__(self, model: str, version: int, alias: str, traffic: bool) -> None:
        self.calls.append((model, version, alias, traffic))
        gate = self.failing[traffic]
        if gate is not None:
            raise refusal(model, version, alias, [GateFailure(gate, "not good enough")])


async def test_a_refused_final_promotion_rolls_the_canary_back(
    make_env: Callable[..., Any],
) -> None:
    gate = FakeGate()
    env: Env = await make_env([CANARY], versions=("stable", "same_label"), gate=gate)
    await env.rollouts.ops.start_canary("d", 2, actor="alice")
    assert gate.calls == [("m", 2, "production", False)]
    gate.failing[True] = "shadow_agreement"
    await env.rollouts.refresh()
    await _traffic(env, 40)
    env.clock.advance(61)
    await env.rollouts.tick()  # 50 % → 100 %
    await _traffic(env, 12, prefix="s2")
    env.clock.advance(61)
    await env.rollouts.tick()  # every step passed; the gate refuses the promotion
    assert gate.calls[-1] == ("m", 2, "production", True)
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["status"] == "rolled_back"
    assert "promotion gate refused" in status["canary"]["reason"]
    assert "gate 'shadow_agreement' failed" in status["canary"]["reason"]
    aliases = await env.svc.registry.aliases("m")
    assert aliases["production"] == 1 and aliases["canary"] == 1
    actor, action, _, details = env.outlets.audit.audits[-1]
    assert (actor, action) == ("rollouts", "canary.rollback")
    assert details["failed_gates"][0]["gate"] == "shadow_agreement"
    alert = env.outlets.alerts.alerts[-1]
    assert alert["rule"] == "canary_rolled_back" and "shadow_agreement" in alert["summary"]


async def test_a_canary_does_not_start_while_its_gates_fail(make_env: Callable[..., Any]) -> None:
    gate = FakeGate()
    gate.failing[False] = "approvals"
    env: Env = await make_env([CANARY], versions=("stable", "same_label"), gate=gate)
    with pytest.raises(PromotionGateFailed, match="gate 'approvals' failed"):
        await env.rollouts.ops.start_canary("d", 2, actor="alice")
    assert "canary" not in await env.svc.registry.aliases("m")  # nothing moved
    await env.svc.registry.set_alias("m", "canary", 2, actor="test")
    await env.rollouts.tick()  # auto start refused: an alert, no run
    await env.rollouts.tick()
    assert (await env.rollouts.ops.canary_status("d"))["canary"] is None
    refused = [a for a in env.outlets.alerts.alerts if a["rule"] == "canary_start_refused"]
    assert refused and refused[0]["dedupe_key"] == "canary-gates:d:v2"
    assert "approvals" in refused[0]["summary"]
    gate.failing[False] = None  # e.g. the approvals came in: the next tick starts it
    await env.rollouts.tick()
    assert (await env.rollouts.ops.canary_status("d"))["canary"]["status"] == "running"


async def test_shadow_agreement_for_gates_counts_every_process(
    make_env: Callable[..., Any],
) -> None:
    env: Env = await make_env([SHADOW], versions=("stable", "other_label"))
    for i in range(3):
        await env.call("d", rid=f"x{i}")
    await env.rollouts.drained()
    assert await env.rollouts.shadow_agreement("m", 2) == (0.0, 3)  # this process, unflushed
    await env.rollouts.flush()
    other = env.service(process="other")
    assert await other.shadow_agreement("m", 2) == (0.0, 3)  # from the persisted counters
    assert await other.shadow_agreement("m", 9) == (None, 0)
    await other.aclose()
