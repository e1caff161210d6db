"""Review items whose stored payload cannot be opened (wrong key, corrupt bytes): shown as
unreadable with their id, counted, logged and alerted on — never a failed listing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from bastion.observability.sinks import AlertSink

log = structlog.get_logger(__name__)


class Unreadable:
    """Counts unreadable items (``bastion_unreadable_records_total{kind="review_item"}`` on
    the app's registry) and raises one ``review_item_unreadable`` alert per item."""

    def __init__(
        self, alerts: AlertSink | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.count = 0
        self._counter: Any = None
        self._alerts = alerts
        self._pending: dict[str, str] = {}
        self._alerted: set[str] = set()
        if registry is None:
            return
        from prometheus_client import Counter

        self._counter = Counter(
            "bastion_unreadable_records",
            "Stored records that could not be decrypted or parsed when read",
            ["kind"],
            registry=registry,
        )

    def note(self, item_id: str, deployment: str, reason: str) -> dict[str, Any]:
        """Record one unreadable item; the ``unreadable`` part of its view."""
        self.count += 1
        if self._counter is not None:
            self._counter.labels("review_item").inc()
        if item_id not in self._alerted:
            self._pending[item_id] = deployment
        log.error("review_item_unreadable", item=item_id, deployment=deployment, reason=reason)
        return {"id": item_id, "reason": reason}

    async def alert(self) -> None:
        """Fire the alerts of items noted since the last call (once per item per process;
        the alert history dedupes across processes)."""
        pending, self._pending = self._pending, {}
        if self._alerts is None:
            return
        for item_id, deployment in pending.items():
            self._alerted.add(item_id)
            await self._alerts.fire(
                "review_item_unreadable",
                severity="critical",
                deployment=deployment,
                summary=(
                    f"review item {item_id} cannot be read: its payload does not decrypt or "
                    "parse (most likely a server with another encryption key wrote it)"
                ),
                details={"item": item_id},
                dedupe_key=f"unreadable:review:{item_id}",
            )
