"""The rollout service through the assembled request path: canary, A/B and shadow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from bastion.errors import BastionError, ConfigError, Timeout
from bastion.pipeline import Call
from bastion.routing.rollouts import ARM_HEADER, RolloutService
from bastion.settings.rollouts import RolloutsSettings
from tests.routing.rollouts import models
from tests.routing.rollouts.conftest import Env

CANARY = {
    "deployment": "d",
    "canary": {
        "steps": [50, 100],
        "step_s": 60,
        "min_requests": 10,
        "max_latency_increase": None,
    },
}


async def _traffic(env: Env, n: int, *, prefix: str = "r") -> dict[str, int]:
    """Send ``n`` calls; count answers per arm (errors under 'error')."""
    seen: dict[str, int] = {}
    for i in range(n):
        try:
            result = await env.call("d", rid=f"{prefix}{i}")
        except BastionError:
            seen["error"] = seen.get("error", 0) + 1
            continue
        arm = result.headers.get(ARM_HEADER, "none")
        if "x-bastion-reserved-from" in result.headers:  # a failed canary call, re-served
            arm = "reserved"
        seen[arm] = seen.get(arm, 0) + 1
    return seen


async def test_failing_canary_is_rolled_back_with_alias_audit_and_alert(
    make_env: Callable[..., Any],
) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "broken"))
    await env.svc.registry.set_alias("m", "canary", 1, actor="test")
    await env.svc.registry.set_alias("m", "canary", 2, actor="test")
    await env.rollouts.tick()  # the alias moved: the driver starts a canary at 50 %
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["status"] == "running" and status["canary"]["traffic"] == 50

    seen = await _traffic(env, 40)
    # a split, by request hash; the canary's failures are re-served by the stable version
    assert seen.get("reserved", 0) > 0 and seen.get("stable", 0) > 0 and "error" not in seen
    await env.rollouts.tick()

    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["status"] == "rolled_back"
    assert "error_rate" in status["canary"]["reason"]
    assert (await env.svc.registry.aliases("m"))["canary"] == 1  # pointed back
    assert (await env.svc.registry.aliases("m"))["production"] == 1
    history = await env.svc.registry.alias_history("m", "canary")
    assert history[-1].action == "rollback" and history[-1].actor == "rollouts"
    actions = [e.action for e in status["events"]]
    assert actions == ["started", "rolled_back"]
    assert [a[1] for a in env.outlets.audit.audits] == ["canary.start", "canary.rollback"]
    alert = env.outlets.alerts.alerts[0]
    assert alert["rule"] == "canary_rolled_back" and alert["deployment"] == "d"
    assert alert["severity"] == "critical" and alert["dedupe_key"].startswith("canary:d:")

    seen = await _traffic(env, 10, prefix="after")
    assert seen == {"none": 10}  # every call on the stable version, no arm any more
    await env.rollouts.tick()
    assert (await env.rollouts.ops.canary_status("d"))["canary"]["status"] == "rolled_back"


async def test_healthy_canary_advances_per_step_and_promotes(
    make_env: Callable[..., Any],
) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "same_label"))
    run = await env.rollouts.ops.start_canary("d", 2, actor="alice", reason="try v2")
    assert run.traffic == 50
    await env.rollouts.refresh()
    seen = await _traffic(env, 40)
    assert set(seen) == {"canary", "stable"}
    await env.rollouts.tick()
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["step"] == 1  # healthy, but the step must last step_s
    assert status["analysis"]["next"] == "wait" and "holds" in status["analysis"]["reason"]

    env.clock.advance(61)
    await env.rollouts.tick()
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["step"] == 2 and status["canary"]["traffic"] == 100
    assert status["arms"]["canary"]["requests"] == 0  # each step is judged on its own traffic

    assert await _traffic(env, 12, prefix="s2") == {"canary": 12}
    env.clock.advance(61)
    await env.rollouts.tick()
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["status"] == "promoted"
    assert (await env.svc.registry.aliases("m"))["production"] == 2
    assert (await env.call("d")).version == 2
    assert [a[1] for a in env.outlets.audit.audits] == ["canary.start", "canary.promote"]
    assert env.outlets.audit.audits[0][0] == "alice"


async def test_canary_state_and_stats_survive_a_restart(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "same_label"))
    await env.rollouts.ops.start_canary("d", 2, actor="test")
    await env.rollouts.refresh()
    await _traffic(env, 20)
    await env.rollouts.flush()

    restarted = env.service(clock=env.clock, process="restarted")
    await restarted.start()
    status = await restarted.ops.canary_status("d")
    assert status["canary"]["status"] == "running"
    arms = status["arms"]
    assert arms["canary"]["requests"] + arms["stable"]["requests"] == 20
    call = Call(
        request_id="x", deployment="d", api="predict", inputs=[{}], batched=False, started_at=0.0
    )
    assert restarted.route(call) is not None  # routes by the persisted step
    await restarted.aclose()


async def test_only_the_lease_holder_drives(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "same_label"))
    other = env.service(clock=env.clock, process="other")
    await env.rollouts.drive()
    await other.drive()
    assert env.rollouts.leader and not other.leader
    await env.rollouts.aclose()  # releases the lease
    await other.drive()
    assert other.leader
    await other.aclose()


async def test_abort_moves_traffic_and_alias_back(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "same_label"))
    await env.rollouts.ops.start_canary("d", 2, actor="test")
    assert (await env.svc.registry.aliases("m"))["canary"] == 2
    ended = await env.rollouts.ops.abort_canary("d", actor="bob", reason="not today")
    assert ended.status == "aborted" and ended.traffic == 0
    assert (await env.svc.registry.aliases("m"))["canary"] == 1
    await env.rollouts.refresh()
    assert await _traffic(env, 5) == {"none": 5}
    await env.rollouts.tick()  # the alias equals the stable version: no new canary
    assert (await env.rollouts.ops.canary_status("d"))["canary"]["status"] == "aborted"
    with pytest.raises(BastionError, match="no running canary"):
        await env.rollouts.ops.abort_canary("d", actor="bob")


class _Feedback:
    """Stands in for the feedback service: a score for every request id it was told about."""

    def __init__(self, scores: Mapping[str, float]) -> None:
        self._scores = scores

    async def outcomes(self, request_ids: Sequence[str]) -> Mapping[str, float]:
        return {r: self._scores[r] for r in request_ids if r in self._scores}


AB = {
    "deployment": "d",
    "ab": {
        "arms": [{"name": "a", "version": 1}, {"name": "b", "version": 2}],
        "min_samples": 5,
    },
}


async def test_ab_is_sticky_by_key_and_reports_arms(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([AB], versions=("stable", "other_label"))
    arms: dict[str, set[str]] = {}
    # Key ids are random, so is each key's arm: add keys until both arms hold three (at
    # least min_samples requests each), rather than hope that twelve keys split well.
    for i in range(64):
        name = f"client{i}"
        await env.key(name)
        for _ in range(3):
            result = await env.call("d", key=name)
            arms.setdefault(name, set()).add(result.headers[ARM_HEADER])
            assert result.version == (1 if result.headers[ARM_HEADER] == "a" else 2)
        held = [next(iter(a)) for a in arms.values()]
        if min(held.count("a"), held.count("b")) >= 3:
            break
    assert all(len(a) == 1 for a in arms.values())  # sticky
    held = [next(iter(a)) for a in arms.values()]
    assert min(held.count("a"), held.count("b")) >= 3  # both arms used (64 keys: ~certain)

    await env.rollouts.flush()
    scores = {}
    for arm, rids in (await env.rollouts.store.assignments("d", "default")).items():
        scores.update({r: 1.0 if arm == "a" else 0.0 for r in rids})
    env.rollouts.hooks.feedback = _Feedback(scores)
    report = await env.rollouts.ops.ab_report("d")
    rows = {r["name"]: r for r in report["arms"]}
    assert rows["a"]["requests"] + rows["b"]["requests"] == 3 * len(arms)
    assert rows["a"]["outcome_mean"] == 1.0 and rows["b"]["outcome_mean"] == 0.0
    assert report["enough_data"] and report["outcomes_available"]
    assert {t.metric for t in report["tests"]} >= {"error_rate", "latency", "outcome"}
    assert "scores worse" in report["verdict"] or "scores better" in report["verdict"]


async def test_ab_sticky_by_entity_field(make_env: Callable[..., Any]) -> None:
    ab = {"deployment": "d", "ab": {**AB["ab"], "sticky": {"entity_field": "customer"}}}
    env: Env = await make_env([ab], versions=("stable", "other_label"))
    for customer in ("c1", "c2", "c3", "c4", "c5", "c6"):
        got = {
            (await env.call("d", {"customer": customer, "i": i})).headers[ARM_HEADER]
            for i in range(4)
        }
        assert len(got) == 1
    report = await env.rollouts.ops.ab_report("d")
    assert report["sticky"] == "entity_field:customer"
    assert not report["outcomes_available"]


async def test_ab_report_says_not_enough_data(make_env: Callable[..., Any]) -> None:
    ab = {"deployment": "d", "ab": {**AB["ab"], "min_samples": 1000}}
    env: Env = await make_env([ab], versions=("stable", "other_label"))
    await _traffic(env, 6)
    report = await env.rollouts.ops.ab_report("d")
    assert not report["enough_data"] and report["verdict"].startswith("not enough data")


SHADOW = {"deployment": "d", "shadow": {"version": 2, "share": 1.0}}


async def test_shadow_never_touches_or_delays_the_live_answer(
    make_env: Callable[..., Any],
) -> None:
    env: Env = await make_env([SHADOW], versions=("stable", "Gated"))
    models.Gated.started, models.Gated.release = asyncio.Event(), asyncio.Event()
    try:
        plain = await env.call("d", rid="live-0")
        await asyncio.wait_for(models.Gated.started.wait(), 10)
        # the candidate is stuck in its call, yet live calls keep being answered, unchanged
        for i in range(1, 5):
            again = await env.call("d", rid=f"live-{i}")
            assert again.predictions == plain.predictions and again.version == 1
            assert ARM_HEADER not in again.headers
        assert not models.Gated.release.is_set()
        models.Gated.release.set()
        await env.rollouts.drained()
    finally:
        models.Gated.release.set()
        models.Gated.started = models.Gated.release = None
    report = await env.rollouts.ops.shadow_report("d")
    (candidate,) = report["candidates"]
    assert candidate["version"] == 2 and candidate["sampled"] == 5
    assert candidate["compared"] == 5 and candidate["agreement"] == 1.0  # same label
    assert env.rollouts.agreement("m", 2) == 1.0
    assert env.rollouts.agreement("m", 9) is None


async def test_shadow_counts_disagreement_errors_and_drops(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([SHADOW], versions=("stable", "other_label"))
    for i in range(4):
        await env.call("d", rid=f"x{i}")
    await env.rollouts.drained()
    await env.rollouts.flush()
    assert env.rollouts.agreement("m", 2) == 0.0
    restarted = env.service(process="restarted")
    await restarted.flush()
    assert restarted.agreement("m", 2) == 0.0  # from the persisted counters
    await restarted.aclose()


async def test_shadow_queue_full_drops_and_counts(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env(
        [SHADOW], versions=("stable", "Gated"), shadow_concurrency=1, shadow_queue=1
    )
    models.Gated.started, models.Gated.release = asyncio.Event(), asyncio.Event()
    try:
        await env.call("d", rid="q0")
        await asyncio.wait_for(models.Gated.started.wait(), 10)
        for i in range(1, 5):
            await env.call("d", rid=f"q{i}")  # one waits in the queue, three are dropped
        models.Gated.release.set()
        await env.rollouts.drained()
    finally:
        models.Gated.release.set()
        models.Gated.started = models.Gated.release = None
    (candidate,) = (await env.rollouts.ops.shadow_report("d"))["candidates"]
    assert candidate["sampled"] == 5 and candidate["dropped"] == 3
    assert candidate["compared"] == 2


async def test_ab_arm_by_alias_follows_the_alias(make_env: Callable[..., Any]) -> None:
    arms = [{"name": "a", "version": 1}, {"name": "b", "alias": "challenger"}]
    ab = {"arms": arms, "sticky": {"entity_field": "customer"}}
    env: Env = await make_env([{"deployment": "d", "ab": ab}], ("stable", "other_label"))
    answers = [await env.call("d", {"customer": i}) for i in range(20)]
    assert {r.headers.get(ARM_HEADER) for r in answers} == {"a", None}  # b's alias is unset
    assert {r.version for r in answers} == {1}
    await env.svc.registry.set_alias("m", "challenger", 2, actor="test")
    await env.rollouts.refresh()
    answers = [await env.call("d", {"customer": i}) for i in range(20)]
    assert {(r.headers[ARM_HEADER], r.version) for r in answers} == {("a", 1), ("b", 2)}


async def test_a_rolled_back_pair_is_not_retried_by_itself(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "broken", "same_label"))
    await env.svc.registry.set_alias("m", "canary", 2, actor="test")
    await env.rollouts.tick()
    await _traffic(env, 40)
    await env.rollouts.tick()
    assert (await env.rollouts.ops.canary_status("d"))["canary"]["status"] == "rolled_back"
    await env.rollouts.tick()
    assert (await env.rollouts.ops.canary_status("d"))["canary"]["version"] == 2  # no restart
    await env.svc.registry.set_alias("m", "canary", 3, actor="test")  # a new candidate
    await env.rollouts.tick()
    status = await env.rollouts.ops.canary_status("d")
    assert status["canary"]["version"] == 3 and status["canary"]["status"] == "running"


async def test_rollouts_of_unknown_deployments_are_config_errors(
    make_env: Callable[..., Any],
) -> None:
    env: Env = await make_env([])
    settings = env.svc.settings.model_copy(
        update={"rollouts": RolloutsSettings(deployments=[{"deployment": "typo"}])}
    )
    with pytest.raises(ConfigError, match="not configured: typo; deployments: d"):
        RolloutService(
            settings.rollouts,
            settings.deployments,
            env.svc.db,
            env.svc.registry,
            env.svc.deployments,
        )


async def test_a_canary_error_carries_its_arm_and_version(make_env: Callable[..., Any]) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "times_out"))
    await env.svc.registry.set_alias("m", "canary", 1, actor="test")
    await env.svc.registry.set_alias("m", "canary", 2, actor="test")
    await env.rollouts.tick()
    failed: list[dict[str, str]] = []
    for i in range(20):
        call = Call(f"t{i}", "d", "predict", [{"x": 1}], False, time.perf_counter())
        try:
            result = await env.pipeline(call)
        except Timeout:
            failed.append(call.response_headers)
            continue
        assert result.headers[ARM_HEADER] == "stable"
    assert failed, "no call went to the canary"
    for headers in failed:  # render.py sends these with the error response
        assert (headers[ARM_HEADER], headers["x-bastion-model-version"]) == ("canary", "2")


async def test_the_leader_renews_its_lease_a_third_of_the_way_in_not_every_tick(
    make_env: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env: Env = await make_env([CANARY], versions=("stable", "same_label"))
    renewals: list[str] = []
    acquire = env.rollouts.store.acquire_lease

    async def counted(name: str, owner: str, ttl_s: float) -> bool:
        renewals.append(owner)
        return await acquire(name, owner, ttl_s)

    monkeypatch.setattr(env.rollouts.store, "acquire_lease", counted)
    for _ in range(5):  # ticks within the first third of the lease: one write, not five
        await env.rollouts.drive()
    assert renewals == [env.rollouts.book.process] and env.rollouts.leader
    env.rollouts._renewed -= env.rollouts._settings.lease_s / 3  # a third of it has gone
    await env.rollouts.drive()
    assert len(renewals) == 2 and env.rollouts.leader
    await env.rollouts.aclose()
