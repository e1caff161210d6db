"""Files of the OpenAI-compatible Files API: uploads for batches, and batch results.

Bytes live under ``<data_dir>/files/<id>``, written under a temporary name and renamed once
complete; the row says who owns them. Another tenant's file is a 404.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from bastion.errors import InvalidRequest, NotFound
from bastion.jobs.outputs import atomic_path
from bastion.security import Principal
from bastion.store import Database
from bastion.store.batch_tables import FileRow

PURPOSES = ("batch", "batch_output")


def file_view(row: FileRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": int(row.created_at.timestamp()),
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
        "status_details": None,
    }


class FileStore:
    def __init__(self, db: Database, root: Path) -> None:
        self._db = db
        self.root = root

    def path(self, file_id: str) -> Path:
        return self.root / file_id

    async def upload(
        self, principal: Principal, purpose: str, filename: str, chunks: AsyncIterator[bytes]
    ) -> FileRow:
        if purpose != "batch":
            raise InvalidRequest(
                f"purpose: '{purpose}' is not supported here; upload with purpose 'batch'",
                details={"field": "purpose"},
            )
        file_id = f"file-{secrets.token_hex(12)}"
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path(file_id)
        size = 0
        with atomic_path(final) as tmp, tmp.open("wb") as fh:
            async for block in chunks:
                size += len(block)
                await asyncio.to_thread(fh.write, block)
        try:
            return await self._add(file_id, principal.tenant, principal.key_id, purpose,
                                   filename, size)  # fmt: skip
        except BaseException:
            final.unlink(missing_ok=True)
            raise

    async def produce(
        self, tenant: str | None, key_id: str, filename: str, lines: Iterable[bytes]
    ) -> FileRow:
        """A result file written from ``lines`` (atomically), owned like its batch."""
        file_id = f"file-{secrets.token_hex(12)}"
        self.root.mkdir(parents=True, exist_ok=True)

        def write() -> int:
            with atomic_path(self.path(file_id)) as tmp, tmp.open("wb") as fh:
                for line in lines:
                    fh.write(line)
                fh.flush()
                return os.fstat(fh.fileno()).st_size

        size = await asyncio.to_thread(write)
        return await self._add(file_id, tenant, key_id, "batch_output", filename, size)

    async def _add(
        self, file_id: str, tenant: str | None, key_id: str, purpose: str, name: str, size: int
    ) -> FileRow:
        async with self._db.session() as session:
            row = FileRow(id=file_id, tenant=tenant, key_id=key_id, purpose=purpose,
                          filename=name[:255], bytes=size)  # fmt: skip
            session.add(row)
            await session.commit()
            return row

    async def get(self, principal: Principal, file_id: str) -> FileRow:
        async with self._db.session() as session:
            row = await session.get(FileRow, file_id)
        if row is None or (row.tenant is not None and not principal.sees_tenant(row.tenant)):
            raise NotFound(f"No such File object: {file_id}")
        return row
