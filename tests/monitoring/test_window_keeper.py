"""Live drift windows saved and resumed: by a restarted process, or by another one, counted once."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bastion.monitoring import DriftMonitor, DriftSettings, ReferenceProfile, build_profile
from bastion.monitoring.window_codec import decode, encode
from bastion.monitoring.window_keeper import WindowKeeper
from bastion.monitoring.window_store import WindowStore
from bastion.store import Database

SETTINGS = DriftSettings(window_s=100.0, max_windows=3)


def _profile() -> ReferenceProfile:
    rng = np.random.default_rng(0)
    rows = [
        {"x": float(v), "k": str(k)}
        for v, k in zip(rng.normal(size=2000), rng.choice(list("abc"), 2000), strict=True)
    ]
    return build_profile(rows, predictions=[float(v) for v in rng.normal(size=2000)])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _monitor(clock: Clock, profile: ReferenceProfile) -> DriftMonitor:
    monitor = DriftMonitor(SETTINGS, clock=clock, rng=random.Random(1))
    monitor.set_reference("d", 1, profile, source=7)
    return monitor


def _send(monitor: DriftMonitor, n: int, shift: float, *, tenant: str | None = None) -> None:
    rng = np.random.default_rng(n)
    for v in rng.normal(shift, 1.0, n).tolist():
        monitor.observe("d", 1, {"x": v, "k": "a"}, prediction=v, tenant=tenant)


def test_a_window_survives_its_encoding_bit_for_bit() -> None:
    monitor = _monitor(Clock(), _profile())
    _send(monitor, 1500, 2.0)
    [state] = monitor.unsaved()
    [open_window] = state.windows
    again = decode(encode(open_window), open_window.layout)
    assert again.rows == open_window.rows == 1500
    for a, b in zip(again.numeric_counts, open_window.numeric_counts, strict=True):
        assert a.tolist() == b.tolist()
    assert np.allclose(again.sample, open_window.sample.astype(np.float32))
    assert monitor.unsaved() == []  # nothing changed since


async def test_a_restarted_process_resumes_its_windows_and_drift(database: Database) -> None:
    clock, profile = Clock(), _profile()
    before = _monitor(clock, profile)
    _send(before, 300, 2.0)
    _send(before, 120, 2.0, tenant="t1")
    clock.now += 100  # the window closes with the next row; another one opens
    _send(before, 200, 0.0)
    expected = before.report("d", windows=2)
    keeper = WindowKeeper(before, WindowStore(database, "a"), interval_s=1)
    await keeper.close()  # a graceful shutdown saves and releases

    after = _monitor(clock, profile)
    assert after.report("d").rows == 0
    resumed = WindowKeeper(after, WindowStore(database, "b"), interval_s=1)
    assert await resumed.adopt("d", 1) == 3  # the open and the closed window, the tenant's
    report = after.report("d", windows=2)
    assert (report.rows, report.status) == (expected.rows, expected.status) == (620, "drift")
    assert after.report("d").rows == 200
    assert after.report("d", windows=2, tenant="t1").rows == 120
    assert after.report("d", windows=2) == report  # reading again changes nothing
    # the rows are now the new process's: a third one finds nothing free to adopt
    third = _monitor(clock, profile)
    assert await WindowKeeper(third, WindowStore(database, "c"), interval_s=1).adopt("d", 1) == 0


async def test_two_replicas_keep_their_own_windows_and_merge_a_leaver_once(
    database: Database,
) -> None:
    clock, profile = Clock(), _profile()
    one, two = _monitor(clock, profile), _monitor(clock, profile)
    keep_one = WindowKeeper(one, WindowStore(database, "one"), interval_s=1)
    keep_two = WindowKeeper(two, WindowStore(database, "two"), interval_s=1)
    _send(one, 150, 2.0)
    _send(two, 250, 0.0)
    await keep_one.save()
    await keep_two.save()
    assert await keep_two.adopt("d", 1) == 0  # replica one is alive: its windows are its own
    await keep_one.close()
    # a running replica waits for a restart to take its windows back first ...
    await keep_two.tick()
    assert two.report("d").rows == 250
    # ... and adopts them once the hand-over time has passed: merged, once
    assert await keep_two.adopt("d", 1, released_s=0) == 1
    assert two.report("d").rows == 400
    assert await keep_two.adopt("d", 1, released_s=0) == 0
    await keep_two.close()
    fresh = _monitor(clock, profile)
    assert await WindowKeeper(fresh, WindowStore(database, "x"), interval_s=1).adopt("d", 1) == 1
    assert fresh.report("d").rows == 400


async def test_windows_of_another_reference_are_dropped(database: Database) -> None:
    clock = Clock()
    old = _monitor(clock, _profile())
    _send(old, 200, 0.0)
    await WindowKeeper(old, WindowStore(database, "a"), interval_s=1).close()
    new = DriftMonitor(SETTINGS, clock=clock, rng=random.Random(1))
    new.set_reference("d", 1, _profile(), source=8)  # a new baseline was stored meanwhile
    assert await WindowKeeper(new, WindowStore(database, "b"), interval_s=1).adopt("d", 1) == 0
    assert new.report("d").rows == 0


@pytest.mark.parametrize("size", [5, 20])
def test_a_restored_reservoir_fits_a_changed_sample_size(size: int) -> None:
    clock, profile = Clock(), _profile()
    monitor = _monitor(clock, profile)
    _send(monitor, 50, 0.0)
    [state] = monitor.unsaved()
    small = DriftMonitor(DriftSettings(window_s=100.0, window_sample=max(size, 10)), clock=clock)
    small.set_reference("d", 1, profile, source=7)
    assert small.adopt("d", 1, "", 7, list(state.windows))
    assert small.report("d").rows == 50


async def test_windows_of_a_process_that_died_are_taken_over_once_stale(
    database: Database,
) -> None:
    clock, profile = Clock(), _profile()
    dead, alive = _monitor(clock, profile), _monitor(clock, profile)
    gone = WindowKeeper(dead, WindowStore(database, "dead"), interval_s=1)
    _send(dead, 180, 2.0)
    await gone.save()  # then it is killed: nothing released
    keeper = WindowKeeper(alive, WindowStore(database, "alive"), interval_s=1)
    await keeper.tick()
    assert alive.report("d").rows == 0  # it saved recently: it may still be alive
    keeper.handover_s = 0.0  # as if the hand-over time had passed without a save
    await keeper.tick()
    assert alive.report("d").rows == 180
    await keeper.tick()
    assert alive.report("d").rows == 180  # taken once


async def test_a_new_reference_replaces_what_the_process_saved(database: Database) -> None:
    clock = Clock()
    monitor = _monitor(clock, _profile())
    keeper = WindowKeeper(monitor, WindowStore(database, "a"), interval_s=1)
    _send(monitor, 150, 0.0)
    clock.now += 100
    _send(monitor, 10, 0.0)  # a closed window and an open one, saved
    await keeper.save()
    monitor.set_reference("d", 1, _profile(), source=8)  # a baseline frozen since
    await keeper.close()
    old = DriftMonitor(SETTINGS, clock=clock, rng=random.Random(1))
    old.set_reference("d", 1, _profile(), source=7)
    assert await WindowKeeper(old, WindowStore(database, "b"), interval_s=1).adopt("d", 1) == 0
