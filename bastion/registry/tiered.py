"""Artifacts as the registry and eval sets see them: a local cache keyed by sha256, backed in
a cluster by a shared store every replica reads (the database's blobs or an S3 bucket).

Storing writes the local cache first (hashing as it copies), then uploads from it. Loading
takes the cached file, fetching it from the shared store first when it is missing or no
longer matches; the hash is checked on every load, whatever the store. Without a shared store
(one node) the cache is the store, as before.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import structlog

from bastion.errors import ArtifactIntegrityError
from bastion.registry.artifacts import ArtifactStore
from bastion.registry.blobs.base import BlobStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """What one store holds for one artifact: ``ok`` when its bytes hash to the sha256."""

    store: str
    ok: bool
    actual: str | None
    message: str


class Artifacts:
    """The local cache plus, in a cluster, the shared store. Async; file work in threads."""

    def __init__(self, cache: ArtifactStore, shared: BlobStore | None = None) -> None:
        self._cache = cache
        self._shared = shared
        self._fetching: dict[str, asyncio.Lock] = {}

    @property
    def cache(self) -> ArtifactStore:
        return self._cache

    @property
    def shared(self) -> BlobStore | None:
        return self._shared

    @property
    def store_name(self) -> str:
        return self._shared.name if self._shared is not None else "local"

    async def put(self, source: Path | bytes) -> tuple[str, int]:
        """Store a file or bytes in the cache and the shared store; ``(sha256, size)``."""
        sha256, size = await asyncio.to_thread(self._cache.put, source)
        if self._shared is not None and await self._shared.size_of(sha256) != size:
            await self._shared.upload(sha256, size, self._cache.location(sha256))
        return sha256, size

    async def path(self, sha256: str, *, expected_size: int | None = None) -> Path:
        """The cached file after checking its sha256 (fetched from the shared store first
        when missing or altered); ArtifactIntegrityError when no store has the right bytes."""
        try:
            return await asyncio.to_thread(self._cache.path, sha256, expected_size=expected_size)
        except ArtifactIntegrityError as exc:
            if self._shared is None:
                raise
            if exc.details.get("actual") is not None:
                log.warning("artifact_cache_discarded", sha256=sha256, reason=exc.message)
        lock = self._fetching.setdefault(sha256, asyncio.Lock())
        async with lock:
            try:
                return await asyncio.to_thread(
                    self._cache.path, sha256, expected_size=expected_size
                )
            except ArtifactIntegrityError:
                await self._fetch(sha256, expected_size)
            finally:
                self._fetching.pop(sha256, None)
        return await asyncio.to_thread(self._cache.path, sha256, expected_size=expected_size)

    async def _fetch(self, sha256: str, expected_size: int | None) -> None:
        assert self._shared is not None
        tmp = await asyncio.to_thread(self._cache.incoming)
        handle = await asyncio.to_thread(tmp.open, "xb")
        size = 0
        try:
            async for chunk in self._shared.chunks(sha256):
                await asyncio.to_thread(handle.write, chunk)
                size += len(chunk)
            await asyncio.to_thread(handle.flush)
        finally:
            await asyncio.to_thread(handle.close)
        if size == 0 and (expected_size or 0) > 0:
            await asyncio.to_thread(tmp.unlink, True)
            raise ArtifactIntegrityError(
                f"artifact sha256 {sha256} is in neither this replica's cache nor the shared "
                f"store {self._shared.name}. Re-register the model from a trusted copy of the "
                "artifact; `bastion models verify` checks every store",
                details={"path": self._shared.name, "expected": sha256, "actual": None},
            )
        await asyncio.to_thread(self._cache.adopt, tmp, sha256, expected_size or size)
        log.info("artifact_fetched", sha256=sha256, store=self._shared.name, bytes=size)

    async def check(self, sha256: str, size: int | None) -> list[StoreCheck]:
        """Re-hash the artifact in every store: the shared one (when there is one) and this
        replica's cache (a missing cache entry is fine in a cluster: it is fetched on load)."""
        checks = [await self._check_cache(sha256, size)]
        if self._shared is not None:
            checks.append(await self.check_store(self._shared, sha256, size))
        return checks

    async def _check_cache(self, sha256: str, size: int | None) -> StoreCheck:
        try:
            await asyncio.to_thread(self._cache.path, sha256, expected_size=size)
        except ArtifactIntegrityError as exc:
            actual = exc.details.get("actual")
            if actual is None and self._shared is not None:
                return StoreCheck("cache", True, None, "not cached here (fetched on load)")
            return StoreCheck(
                "cache" if self._shared is not None else "local",
                False,
                actual if isinstance(actual, str) else None,
                exc.message,
            )
        return StoreCheck("cache" if self._shared else "local", True, sha256, "sha256 matches")

    @staticmethod
    async def check_store(store: BlobStore, sha256: str, size: int | None) -> StoreCheck:
        """Re-hash what ``store`` holds for ``sha256`` (streamed)."""
        digest = hashlib.sha256()
        found = 0
        async for chunk in store.chunks(sha256):
            digest.update(chunk)
            found += len(chunk)
        if found == 0 and await store.size_of(sha256) is None:
            return StoreCheck(store.name, False, None, f"missing from {store.name}")
        actual = digest.hexdigest()
        if actual != sha256 or (size is not None and found != size):
            return StoreCheck(
                store.name,
                False,
                actual,
                f"{store.name} holds {found} bytes with sha256 {actual}, expected {sha256}",
            )
        return StoreCheck(store.name, True, actual, "sha256 matches")

    async def copy_to(self, target: BlobStore, sha256: str, size: int) -> bool:
        """Copy one artifact into ``target`` through the cache (verified on the way);
        False when ``target`` already held it."""
        if await target.size_of(sha256) == size:
            return False
        path = await self.path(sha256, expected_size=size)
        await target.upload(sha256, size, path)
        return True

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()
