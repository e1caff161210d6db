"""What serving reads: every prompt's aliases and owner, kept in step with the registry the way
deployments are (``routing/deployments.py``): poll the newest alias change id, re-read the
snapshot when it moved. A change reaches every replica within one poll interval; the replica
that made it refreshes before it answers. Versions never change, so they are cached."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import structlog

from bastion.prompts.entities import PromptVersion
from bastion.prompts.registry import PromptRegistry

log = structlog.get_logger(__name__)


class PromptBook:
    def __init__(
        self, registry: PromptRegistry, *, poll_interval_s: float, max_cached: int = 256
    ) -> None:
        self._registry = registry
        self._poll = poll_interval_s
        self._max = max_cached
        self._revision = -1
        self._aliases: dict[tuple[str, str], int] = {}
        self._owners: dict[str, str | None] = {}
        self._versions: OrderedDict[tuple[str, int], PromptVersion] = OrderedDict()
        self._lock = asyncio.Lock()

    async def refresh(self, *, force: bool = False) -> bool:
        """Re-read aliases and owners if an alias changed anywhere; True if it did."""
        revision = await self._registry.revision()
        if revision == self._revision and not force:
            return False
        async with self._lock:
            self._aliases = await self._registry.snapshot()
            self._owners = await self._registry.owners()
            if revision != self._revision:
                log.info("prompt_aliases_refreshed", revision=revision)
            self._revision = revision
        return True

    async def watch(self) -> None:
        """Poll the registry's revision until cancelled."""
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.refresh()
            except Exception:  # the watcher must outlive a database hiccup
                log.exception("prompt_refresh_failed")

    def alias(self, name: str, alias: str) -> int | None:
        return self._aliases.get((name, alias))

    async def owner(self, name: str) -> str | None:
        """The owning tenant (None: shared); NotFound for an unknown prompt (owners never
        change, so one read serves until the next refresh)."""
        if name not in self._owners:
            self._owners[name] = await self._registry.owner(name)
        return self._owners[name]

    async def resolve(self, name: str, ref: str) -> PromptVersion:
        """The version ``ref`` names: an alias (read from memory), a number or ``latest``."""
        ref = ref.strip().lower()
        number = self.alias(name, ref)
        if number is None:
            if not ref.removeprefix("v").isdigit():
                return await self._registry.resolve(name, ref)  # latest, or an absent alias
            number = int(ref.removeprefix("v"))
        key = (name, number)
        cached = self._versions.get(key)
        if cached is not None:
            self._versions.move_to_end(key)
            return cached
        found = await self._registry.get_version(name, number)
        self._versions[key] = found
        while len(self._versions) > self._max:
            self._versions.popitem(last=False)
        return found
