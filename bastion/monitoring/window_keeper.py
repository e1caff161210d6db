"""WindowKeeper: saves a process's drift windows on a bounded cadence and at shutdown, and
resumes saved windows when a version's reference is loaded (after a restart, or another
replica's after it left)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import structlog

from bastion.monitoring.monitor import DriftMonitor
from bastion.monitoring.window import WindowSnapshot
from bastion.monitoring.window_codec import decode
from bastion.monitoring.window_store import WindowStore

log = structlog.get_logger(__name__)

MIN_HANDOVER_S = 60.0


class WindowKeeper:
    """Each process keeps its own windows; a window is saved under the process's id.

    ``interval_s``: at most this long between saves of a changed window (a crash loses at
    most that much). Windows left at a graceful shutdown are released; the next process that
    loads the version's reference adopts them at once (a restart resumes its windows), while a
    process already running adopts them only after ``handover_s`` (so a restarting replica gets
    its own back first). A process that died without releasing is taken over once it has not
    saved for ``handover_s``. Adopted windows are merged into the adopter's and their rows
    deleted in the same transaction that saves the merged ones: no window is counted twice.
    """

    def __init__(self, monitor: DriftMonitor, store: WindowStore, *, interval_s: float) -> None:
        self._monitor, self._store = monitor, store
        self.interval_s = interval_s
        self.handover_s = max(MIN_HANDOVER_S, 3 * interval_s)
        self._adopted: list[int] = []  # rows merged in memory, deleted with the next save

    async def save(self, *, everything: bool = False) -> int:
        """Save the windows changed since the last save; the number of streams written."""
        states = self._monitor.unsaved(everything=everything)
        adopted = list(self._adopted)
        try:
            await self._store.save(states, adopted)
        except Exception:
            self._monitor.unsaved_again(states)
            raise
        self._adopted = [i for i in self._adopted if i not in adopted]
        return len(states)

    async def tick(self) -> None:
        """One beat of the cadence: save, then adopt windows left by processes gone."""
        await self.save()
        monitored = set(self._monitor.monitored())
        free = await self._store.adoptable(self.handover_s, self.handover_s)
        for deployment, version in sorted(free & monitored):
            await self.adopt(deployment, version, released_s=self.handover_s)

    async def adopt(self, deployment: str, version: int, *, released_s: float = 0.0) -> int:
        """Merge the free saved windows of a version into this process's; how many."""
        found = self._monitor.layout(deployment, version)
        if found is None:
            return 0
        source, layout = found
        claimed = await self._store.claim(
            deployment, version, source, released_s=released_s, stale_s=self.handover_s
        )
        if not claimed:
            return 0
        by_tenant: defaultdict[str, list[WindowSnapshot]] = defaultdict(list)
        for row in claimed:
            try:
                by_tenant[row.tenant].append(decode(row.state, layout))
            except ValueError as exc:
                log.warning("drift_window_unreadable", id=row.id, error=str(exc))
        for tenant, saved in by_tenant.items():
            self._monitor.adopt(deployment, version, tenant, source, saved)
        self._adopted += [row.id for row in claimed]
        await self.save()
        rows = sum(s.rows for s in by_tenant.get("", []))
        log.info(
            "drift_windows_resumed",
            deployment=deployment,
            version=version,
            windows=len(claimed),
            rows=rows,
        )
        return len(claimed)

    async def close(self) -> None:
        """Save what changed and release this process's windows (a graceful shutdown)."""
        await self.save()
        await self._store.release()

    async def purge(self) -> int:
        """Delete released windows older than any window kept (versions no longer served)."""
        cfg = self._monitor.settings
        kept_s = cfg.window_s * (cfg.max_windows + 1)
        return await self._store.purge(datetime.now(UTC) - timedelta(seconds=kept_s))
