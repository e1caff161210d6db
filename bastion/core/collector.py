"""The garbage collector of a serving process: what start-up built is frozen out of its
reach, and the young generation is collected every 10,000 net allocations instead of 700.

A request allocates and frees thousands of container objects; most go by reference
counting, a few (coroutine frames, exceptions, closures) wait for the collector. At
CPython's default thresholds (700, 10, 10) a worker under load ran a young collection about
every 8 requests and a full one every ~1,000: ~28 µs per request on a quiet machine, 54–68 µs
of the collector's thread CPU under load (``bench/RESULTS.md``, issue 20, the edge round). At
(10,000, 10, 10) it runs one every ~600 requests, whose young objects are mostly garbage by
then (less scanned per object allocated): 7–11 µs under the same load, and the RSS of a
5-minute soak at c=16 flat. Full collections still come every 100 young ones (every ~60,000
requests) and walk only what is not frozen (~15,000 objects, a few milliseconds), so cyclic
garbage that outlives two collections stays bounded.
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (10_000, 10, 10)


def settle_collector(thresholds: tuple[int, int, int] = SERVING_THRESHOLDS) -> tuple[int, ...]:
    """Collect, freeze what survives (it lives as long as the process), and set the
    serving thresholds; the thresholds that were in force, to restore at shutdown."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return before


def restore_collector(thresholds: tuple[int, ...]) -> None:
    """The thresholds ``settle_collector`` returned, in force again (frozen objects stay
    frozen: the next process start-up decides anew)."""
    gc.set_threshold(*thresholds)
