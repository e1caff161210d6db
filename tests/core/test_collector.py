"""core/collector.py: start-up's objects frozen, the serving thresholds set, then restored."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import gc
from bastion.core.collector import SERVING_THRESHOLDS, restore_collector, settle_collector

built = [[i] for i in range(1000)]  # start-up's objects: containers the collector tracks
before = settle_collector()
frozen_ids = {id(o) for o in built}
still_young = sum(1 for o in gc.get_objects() if id(o) in frozen_ids)
serving = gc.get_threshold()

class Cycle:
    pass

a, b = Cycle(), Cycle()
a.other, b.other = b, a  # garbage only the collector can free
del a, b
found = gc.collect()
restore_collector(before)
print(before, serving, gc.get_freeze_count() >= 1000, still_young, found >= 2, gc.get_threshold())
"""


def test_start_up_is_frozen_the_thresholds_raised_and_cycles_still_collected() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split(") ") == [
        "(700, 10, 10",
        "(10000, 10, 10",
        "True 0 True (700, 10, 10)\n",
    ]
