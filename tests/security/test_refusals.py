"""Refusals: failures counted per address and key prefix in windows, 429 past the limit with
one alert, a bounded audit (sampled, the rest counted), known keys still checked."""

from __future__ import annotations

import asyncio
from typing import Any

from bastion.security.refusals import FailureWindows, Refusal, RefusalRecorder
from bastion.settings.security import RefusalSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Audit:
    def __init__(self) -> None:
        self.entries: list[Any] = []

    def append_soon(self, entry: Any) -> None:
        self.entries.append(entry)


class Alerts:
    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    async def fire(self, rule: str, **kw: Any) -> None:
        self.fired.append({"rule": rule, **kw})


def refusal(
    status: int = 401, address: str = "10.0.0.1", prefix: str | None = "bst_abc"
) -> Refusal:
    return Refusal(status, "invalid_key", "GET", "/v1/admin/models", address, prefix, None, "r1")


def test_windows_count_and_expire() -> None:
    windows = FailureWindows(60.0, 100)
    assert [windows.add("a", 0.0) for _ in range(3)] == [1, 2, 3]
    assert windows.retry_after("a", 10.0, 3) == 50.0
    assert windows.retry_after("a", 10.0, 4) is None
    assert windows.add("a", 61.0) == 1  # a new window


def test_windows_stay_bounded_under_a_flood_of_distinct_keys() -> None:
    windows = FailureWindows(60.0, 100)
    for i in range(10_000):
        windows.add(f"k{i}", float(i) / 1000)
    assert len(windows._seen) <= 100


async def test_past_the_limit_an_address_is_throttled_and_one_alert_fires() -> None:
    clock, audit, alerts = Clock(), Audit(), Alerts()
    settings = RefusalSettings(max_failures=3, audit_per_window=2, window_s=60)
    recorder = RefusalRecorder(settings, audit=audit, alerts=alerts, clock=clock)
    for _ in range(5):
        assert recorder.throttled("10.0.0.1", None) is None or _ >= 3
        recorder.refused(refusal(prefix=None))
    await asyncio.sleep(0)
    assert recorder.throttled("10.0.0.1", None) == 60.0
    assert recorder.throttled("10.0.0.2", None) is None
    assert [a["dedupe_key"] for a in alerts.fired] == ["auth_failures:addr:10.0.0.x"]  # its network
    assert len(audit.entries) == 2  # sampled: the rest are counted
    clock.now += 61
    assert recorder.throttled("10.0.0.1", None) is None
    recorder.refused(refusal(status=403))
    summary = [e for e in audit.entries if e.action == "auth.refusals_suppressed"]
    assert summary and summary[0].details["counts"] == {"invalid_key": 3}
    assert audit.entries[-1].action == "access.refused"


def test_a_key_prefix_is_throttled_from_any_address() -> None:
    recorder = RefusalRecorder(RefusalSettings(max_failures=2), clock=Clock())
    recorder.refused(refusal(address="1.1.1.1"))
    recorder.refused(refusal(address="2.2.2.2"))
    assert recorder.throttled("3.3.3.3", "bst_abc") is not None
    assert recorder.throttled("3.3.3.3", "bst_xyz") is None


def test_a_key_that_worked_is_remembered_by_digest() -> None:
    clock = Clock()
    recorder = RefusalRecorder(RefusalSettings(remember_good_s=100), clock=clock)
    recorder.succeeded("Bearer bst_good")
    assert recorder.known_good("Bearer bst_good")
    assert not recorder.known_good("Bearer bst_other") and not recorder.known_good(None)
    assert all(b"bst_good" not in k for k in recorder._good)
    clock.now += 101
    assert not recorder.known_good("Bearer bst_good")


def test_evidence_keeps_the_network_not_the_host() -> None:
    from bastion.security.refusals import network_of

    assert network_of("203.0.113.77") == "203.0.113.x"
    assert network_of("2001:db8:12:3456::1") == "2001:db8:12:x"
    assert network_of("testclient") == "testclient"  # not an address: kept
