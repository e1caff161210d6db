"""Which texts share one encoder run: a run computes every row to its longest text's length.

A transformer encoder pads each text of a run to the run's longest one, and a padded token
costs as much as a real one (more, counting attention). Each run also has a fixed cost (on
the bundled MiniLM, about as much as 16 tokens: its 40 MB of float32 weights are read once
per run). So one run of 32 texts of 5 to 50 tokens computes 32 x 50 tokens for about 700 real
ones, and costs more than the 32 texts encoded one by one; cut into runs of similar length it
costs less than half of that (bench/RESULTS.md, "Micro-batching"). The plan below picks
the cut that computes the fewest tokens, counting each run's fixed cost, among contiguous
groups of the texts sorted by length.
"""

from __future__ import annotations

from collections.abc import Sequence

# One run's fixed cost, in tokens. Measured on the bundled MiniLM, one core: 12-token texts
# cost 8.3 ms alone and 3.8 ms each in runs of 32, i.e. about 4.5 ms (~15 tokens) per run.
RUN_OVERHEAD_TOKENS = 16


def plan_runs(
    lengths: Sequence[int], *, max_texts: int, overhead_tokens: int = RUN_OVERHEAD_TOKENS
) -> list[list[int]]:
    """Groups of indices into ``lengths`` (token counts), one group per run, at most
    ``max_texts`` each, every index exactly once, each group in ascending length order.

    Minimises ``sum(overhead_tokens + len(group) * max(lengths of group))`` over the cuts of
    the length-sorted order (optimal among such cuts; a short exact dynamic programme).
    """
    if max_texts < 1:
        raise ValueError(f"max_texts must be at least 1, got {max_texts}")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    sizes = [lengths[i] for i in order]
    # best[j]: least cost of the first j texts; start[j]: where the last run of that plan starts
    best = [0] * (len(order) + 1)
    start = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        longest = sizes[j - 1]  # the run i..j-1 pads to its last (longest) text
        best[j], start[j] = min(
            (best[i] + overhead_tokens + (j - i) * longest, i)
            for i in range(max(0, j - max_texts), j)
        )
    runs: list[list[int]] = []
    j = len(order)
    while j > 0:
        runs.append(order[start[j] : j])
        j = start[j]
    runs.reverse()
    return runs
