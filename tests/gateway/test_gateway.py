"""Model groups against the real fault upstream, in-process: balancing, retries, deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bastion.errors import ConfigError, Timeout, UpstreamError, UpstreamUnavailable
from bastion.gateway import Gateway
from bastion.gateway.balancer import rank
from bastion.resilience import Deadline
from bastion.settings.llm import LlmSettings
from bastion.testing import FaultUpstream

BODY = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def upstream() -> AsyncIterator[FaultUpstream]:
    server = FaultUpstream()
    await server.start()
    yield server
    await server.stop()


def _settings(url: str, **group: object) -> LlmSettings:
    upstreams = group.pop("upstreams", None) or [
        {"name": "a", "base_url": url, "model": "m-a", "priority": 0},
        {"name": "b", "base_url": url, "model": "m-b", "priority": 1},
    ]
    return LlmSettings.model_validate(
        {
            "retry": {"max_attempts": 3, "base_backoff_s": 0.001, "max_backoff_s": 0.002},
            "breaker": {"min_calls": 2, "window_calls": 4, "open_s": 60},
            "groups": [{"name": "g", "upstreams": upstreams, **group}],
        }
    )


async def _gateway(settings: LlmSettings) -> Gateway:
    gateway = Gateway(settings)
    await gateway.start()
    return gateway


async def test_priority_tier_first_then_the_next_tier_on_failure(upstream: FaultUpstream) -> None:
    gateway = await _gateway(_settings(upstream.base_url))
    try:
        group = gateway.group("g")
        assert [m.name for m in rank(group.members, "least-busy")] == ["a", "b"]
        _, member = await group.complete("chat", BODY, Deadline.after(5))
        assert member.name == "a"
        upstream.set_fault("m-a", "unavailable")
        _, member = await group.complete("chat", BODY, Deadline.after(5))
        assert member.name == "b"  # the retry went to the next upstream, not the same one
        assert group.retries >= 1
    finally:
        await gateway.aclose()


async def test_open_breakers_rank_last_and_all_open_is_immediate(upstream: FaultUpstream) -> None:
    gateway = await _gateway(_settings(upstream.base_url))
    try:
        group = gateway.group("g")
        upstream.set_fault("m-a", "unavailable")
        upstream.set_fault("m-b", "unavailable")
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await group.complete("chat", BODY, Deadline.after(5))
        assert all(m.breaker.state.value == "open" for m in group.members)
        before = upstream.stats()["total"]
        with pytest.raises(UpstreamUnavailable, match="open circuit breaker"):
            await group.complete("chat", BODY, Deadline.after(5))
        assert upstream.stats()["total"] == before
    finally:
        await gateway.aclose()


async def test_no_retry_starts_that_cannot_finish_before_the_deadline(
    upstream: FaultUpstream,
) -> None:
    settings = _settings(
        upstream.base_url, upstreams=[{"name": "a", "base_url": upstream.base_url, "model": "m-a"}]
    )
    gateway = await _gateway(settings)
    try:
        group = gateway.group("g")
        group.typical_attempt_s = 10.0  # attempts have been taking ten seconds
        upstream.set_fault("m-a", "error_once")
        with pytest.raises(UpstreamError) as info:
            await group.complete("chat", BODY, Deadline.after(2))
        assert info.value.details["retry_stopped"] == "deadline"
        assert upstream.stats()["models"]["m-a"]["requests"] == 1
    finally:
        await gateway.aclose()


async def test_expired_deadline_never_calls(upstream: FaultUpstream) -> None:
    gateway = await _gateway(_settings(upstream.base_url))
    try:
        with pytest.raises(Timeout):
            await gateway.group("g").complete("chat", BODY, Deadline.after(-1))
        assert upstream.stats()["total"] == 0
    finally:
        await gateway.aclose()


async def test_weighted_strategy_spreads_by_weight(upstream: FaultUpstream) -> None:
    settings = _settings(
        upstream.base_url,
        strategy="weighted",
        upstreams=[
            {"name": "heavy", "base_url": upstream.base_url, "model": "m-h", "weight": 9},
            {"name": "light", "base_url": upstream.base_url, "model": "m-l", "weight": 1},
        ],
    )
    gateway = await _gateway(settings)
    try:
        group = gateway.group("g")
        firsts = [rank(group.members, "weighted")[0].name for _ in range(2000)]
        share = firsts.count("heavy") / len(firsts)
        assert 0.85 < share < 0.95
    finally:
        await gateway.aclose()


async def test_a_base_url_the_client_cannot_call_is_a_config_error_naming_the_group() -> None:
    settings = LlmSettings.model_validate(
        {"groups": [{"name": "g", "upstreams": [{"base_url": "http://u:p@h/v1", "model": "m"}]}]}
    )
    gateway = Gateway(settings)
    try:
        with pytest.raises(ConfigError, match=r"group 'g', upstream g/0: .*credentials"):
            await gateway.start()
    finally:
        await gateway.aclose()
    assert "g" not in gateway


def test_settings_reject_unknown_fallbacks() -> None:
    with pytest.raises(ValueError, match="unknown groups: nope"):
        LlmSettings.model_validate(
            {
                "groups": [
                    {
                        "name": "g",
                        "fallbacks": ["nope"],
                        "upstreams": [{"base_url": "http://127.0.0.1:1/v1", "model": "m"}],
                    }
                ]
            }
        )


async def test_a_group_of_one_ranks_its_upstream_whatever_its_state(
    upstream: FaultUpstream,
) -> None:
    """The one-member shortcut gives what the general ranking gives: that member, even when
    it was tried already or its breaker is open (``_pick`` then decides)."""
    settings = _settings(
        upstream.base_url, upstreams=[{"name": "a", "base_url": upstream.base_url, "model": "m-a"}]
    )
    gateway = await _gateway(settings)
    try:
        group = gateway.group("g")
        [only] = group.members
        assert rank(group.members, "least-busy") == [only]
        assert rank(group.members, "weighted", exclude=frozenset({"a"})) == [only]
        upstream.set_fault("m-a", "unavailable")
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await group.complete("chat", BODY, Deadline.after(5))
        assert only.breaker.state.value == "open"
        assert rank(group.members, "least-busy") == [only]
    finally:
        await gateway.aclose()


async def test_each_successful_attempt_feeds_the_typical_attempt_time(
    upstream: FaultUpstream,
) -> None:
    """``typical_attempt_s`` (what a retry must still fit before the deadline) is the EWMA of
    successful attempts, measured by each attempt itself; a failed attempt adds nothing."""
    gateway = await _gateway(_settings(upstream.base_url))
    try:
        group = gateway.group("g")
        assert group.typical_attempt_s == 0.0
        await group.complete("chat", BODY, Deadline.after(5))
        first = group.typical_attempt_s
        assert 0.0 < first < 5.0
        group.typical_attempt_s = 1.0
        await group.complete("chat", BODY, Deadline.after(5))
        assert 0.8 <= group.typical_attempt_s < 0.8 + 0.2 * 5.0  # 0.8 * 1.0 + 0.2 * took
        upstream.set_fault("m-a", "unavailable")
        upstream.set_fault("m-b", "unavailable")
        group.typical_attempt_s = 1.0
        with pytest.raises(UpstreamUnavailable):
            await group.complete("chat", BODY, Deadline.after(5))
        assert group.typical_attempt_s == 1.0
    finally:
        await gateway.aclose()
