"""Freshness of collections: document age as metrics, and an alert when a collection's
oldest document has not been confirmed current within its staleness target.

A document's age is the time since it was last indexed or re-indexed unchanged
(``checked_at``). Every process measures on its own schedule; the alert is one episode in
the shared alert history (deduplicated by collection), resolved once the collection is
fresh again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from bastion.observability.sinks import AlertSink
    from bastion.rag.store import RagStore

log = structlog.get_logger(__name__)
RULE = "rag_staleness"


def dedupe_key(collection: str) -> str:
    return f"{RULE}:{collection}"


@dataclass(frozen=True, slots=True)
class Staleness:
    collection: str
    documents: int
    oldest_age_s: float | None
    target_s: float | None

    @property
    def stale(self) -> bool:
        return (
            self.target_s is not None
            and self.oldest_age_s is not None
            and self.oldest_age_s > self.target_s
        )


class Freshness:
    def __init__(
        self,
        store: RagStore,
        interval_s: float,
        *,
        alerts: AlertSink | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """``alerts`` and ``registry``: where staleness alerts and the gauges go, when on."""
        self._store = store
        self._interval = interval_s
        self._alerts = alerts
        self._age: Any = None
        self._docs: Any = None
        self._task: asyncio.Task[None] | None = None
        if registry is not None:
            from prometheus_client import Gauge

            self._age = Gauge(
                "bastion_rag_document_age_seconds",
                "Age of a collection's oldest document (since it was last indexed or "
                "confirmed unchanged)",
                ["collection"],
                registry=registry,
            )
            self._docs = Gauge(
                "bastion_rag_documents", "Documents in a collection", ["collection"],
                registry=registry,
            )  # fmt: skip

    async def check(self, now: datetime | None = None) -> list[Staleness]:
        """Measure every collection once: set the gauges, fire or resolve staleness alerts."""
        now = now or datetime.now(UTC)
        out = []
        for collection, documents, oldest in await self._store.freshness():
            age = (now - oldest).total_seconds() if oldest is not None else None
            found = Staleness(collection.name, documents, age, collection.staleness_target_s)
            out.append(found)
            if self._age is not None:
                self._age.labels(collection.name).set(age or 0.0)
                self._docs.labels(collection.name).set(documents)
            await self._alert(found, collection.tenant)
        return out

    async def _alert(self, found: Staleness, tenant: str | None) -> None:
        if self._alerts is None or found.target_s is None:
            return
        key = dedupe_key(found.collection)
        if not found.stale:
            await self._alerts.resolve(key)
            return
        assert found.oldest_age_s is not None
        await self._alerts.fire(
            RULE,
            severity="warning",
            deployment=None,
            summary=(
                f"collection '{found.collection}' is stale: its oldest document was indexed "
                f"{found.oldest_age_s:.0f}s ago, over its {found.target_s:g}s target; "
                "re-index it (bastion rag index)"
            ),
            details={
                "collection": found.collection,
                "tenant": tenant,
                "oldest_age_s": round(found.oldest_age_s, 1),
                "staleness_target_s": found.target_s,
                "documents": found.documents,
            },
            dedupe_key=key,
        )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rag-freshness")

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as exc:  # the database may be briefly away
                log.warning("rag_freshness_check_failed", error=repr(exc))
            await asyncio.sleep(self._interval)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
