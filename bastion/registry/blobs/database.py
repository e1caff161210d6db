"""Artifacts in the registry's own database (the cluster default): chunks of 1 MiB, each row
read and written on its own, so an artifact of any size streams through bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bastion.registry.artifacts import CHUNK_BYTES
from bastion.registry.blobs.base import reaching
from bastion.store import Database
from bastion.store.artifact_tables import ArtifactBlobRow, ArtifactChunkRow
from bastion.store.tables import utcnow
from bastion.store.upsert import insert_for


def _read_chunk(handle: Any) -> bytes:
    return bytes(handle.read(CHUNK_BYTES))


class DatabaseBlobStore:
    """``artifact_blobs`` + ``artifact_chunks`` in the database Bastion already uses."""

    name = "database"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def size_of(self, sha256: str) -> int | None:
        with reaching(self.name, SQLAlchemyError, OSError):
            return await self._size_of(sha256)

    async def _size_of(self, sha256: str) -> int | None:
        async with self._db.session() as session:
            size = await session.scalar(
                select(ArtifactBlobRow.size).where(ArtifactBlobRow.sha256 == sha256)
            )
        return None if size is None else int(size)

    async def upload(self, sha256: str, size: int, source: Path) -> None:
        """One transaction: the blob row (a concurrent upload of the same bytes waits on its
        key, then finds it there and stores nothing), then each chunk as it is read."""
        with reaching(self.name, SQLAlchemyError, OSError):
            await self._upload(sha256, size, source)

    async def _upload(self, sha256: str, size: int, source: Path) -> None:
        chunks = -(-size // CHUNK_BYTES)
        async with self._db.session() as session:
            insert = insert_for(self._db.dialect)
            created = await session.scalar(
                insert(ArtifactBlobRow)
                .values(sha256=sha256, size=size, chunks=chunks, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["sha256"])
                .returning(ArtifactBlobRow.sha256)
            )
            if created is None:
                await session.rollback()
                return
            handle = await asyncio.to_thread(source.open, "rb")
            try:
                for seq in range(chunks):
                    data = await asyncio.to_thread(_read_chunk, handle)
                    session.add(ArtifactChunkRow(sha256=sha256, seq=seq, data=data))
                    await session.flush()  # one chunk in memory at a time
                    session.expunge_all()
            finally:
                await asyncio.to_thread(handle.close)
            await session.commit()

    async def chunks(self, sha256: str) -> AsyncIterator[bytes]:
        with reaching(self.name, SQLAlchemyError, OSError):
            async for data in self._chunks(sha256):
                yield data

    async def _chunks(self, sha256: str) -> AsyncIterator[bytes]:
        async with self._db.session() as session:
            count = await session.scalar(
                select(ArtifactBlobRow.chunks).where(ArtifactBlobRow.sha256 == sha256)
            )
        for seq in range(count or 0):
            async with self._db.session() as session:
                data = await session.scalar(
                    select(ArtifactChunkRow.data).where(
                        ArtifactChunkRow.sha256 == sha256, ArtifactChunkRow.seq == seq
                    )
                )
            if data is None:
                return  # a chunk gone: the caller sees the short size
            yield bytes(data)

    async def aclose(self) -> None:
        """The database is the registry's; its owner closes it."""
