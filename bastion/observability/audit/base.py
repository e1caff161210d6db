"""The audit log's storage seam: what the log, the verifier and the exporter need from SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bastion.observability.audit.record import AuditEntry, AuditRecord


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for listing records; every one optional, records come in ``seq`` order."""

    from_seq: int = 1
    since: datetime | None = None
    kind: str | None = None
    action: str | None = None
    deployment: str | None = None
    tenant: str | None = None
    request_id: str | None = None
    limit: int = 100


class AuditStore(Protocol):
    """Appends batches to the chain and reads it back (``observability/audit/sql.py``).

    ``append`` must read the last record and insert after it in one transaction that no other
    writer (process or replica) can interleave with.
    """

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]: ...

    async def query(self, q: AuditQuery) -> list[AuditRecord]: ...

    def scan(self, from_seq: int = 1, page: int = 2000) -> AsyncIterator[AuditRecord]: ...

    async def stale_payloads(
        self, active_key: str, after_seq: int, limit: int
    ) -> list[AuditRecord]: ...

    async def replace_payloads(self, changes: Sequence[tuple[int, bytes, str]]) -> None: ...

    async def aclose(self) -> None: ...
