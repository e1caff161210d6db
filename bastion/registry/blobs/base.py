"""The seam of a shared artifact store: content-addressed bytes every replica can read.

A store is told the sha256 and size of what it stores (the local cache hashed it while
writing) and hands bytes back as a stream; it never holds an artifact whole in memory. It
checks nothing itself: the hash is checked by ``registry.tiered.Artifacts`` on every load,
whatever the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol

from bastion.errors import ArtifactStoreUnavailable


class BlobStore(Protocol):
    """Where artifacts live for every replica: the database, or an S3-compatible bucket."""

    @property
    def name(self) -> str:
        """What to call the store in messages and reports (no credentials), e.g. ``database``."""
        ...

    async def size_of(self, sha256: str) -> int | None:
        """The stored size of ``sha256``, or None when the store has no such artifact."""
        ...

    async def upload(self, sha256: str, size: int, source: Path) -> None:
        """Store the file ``source`` (whose hash and size the caller computed) under
        ``sha256``; storing what is already there is a no-op."""
        ...

    def chunks(self, sha256: str) -> AsyncIterator[bytes]:
        """The stored bytes, in order, a bounded chunk at a time (NotFound-free: an absent
        artifact yields nothing; callers compare the size)."""
        ...

    async def aclose(self) -> None: ...


@contextlib.contextmanager
def reaching(store: str, *failures: type[BaseException]) -> Iterator[None]:
    """Map a store client's own failures to ArtifactStoreUnavailable (one place per store)."""
    try:
        yield
    except failures as exc:
        raise ArtifactStoreUnavailable(
            f"the artifact store {store} did not answer ({type(exc).__name__}: {exc}); "
            "check that it is up and reachable from this replica, then retry",
            retry_after=2,
        ) from exc
