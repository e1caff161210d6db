"""Every refusal is evidence: counted in ``bastion_auth_failures_total{reason}``, audited
(one by one up to a rate, then counted in a summary record), and failed authentications from
one address or key prefix are slowed down (429) and raise an alert once over the limit."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from bastion.core.principal import Principal
from bastion.observability.audit.record import AuditEntry
from bastion.settings.security import RefusalSettings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from bastion.observability.sinks import AlertSink, AuditSink

log = structlog.get_logger(__name__)

REASONS = (
    "missing_key",
    "malformed",
    "invalid_key",
    "invalid_token",
    "forbidden",
    "throttled",
    "refused",
)


def network_of(address: str) -> str:
    """The address as evidence may keep it: its network, not the host (``203.0.113.x`` for
    IPv4's /24, the first three groups and ``x`` for IPv6's /48). An address is personal
    data; a network still tells an operator where an attack comes from and what to block.
    Anything that is not an IP address (a test client's name) is kept as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return ".".join(address.split(".")[:3]) + ".x"
    groups = ip.exploded.split(":")[:3]
    return ":".join(g.lstrip("0") or "0" for g in groups) + ":x"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused request: who (when known), from where, on what, and why."""

    status: int
    reason: str
    method: str
    path: str
    address: str
    key_prefix: str | None
    principal: Principal | None
    request_id: str
    message: str = ""


class FailureWindows:
    """Failures per key (an address or a key prefix) in fixed windows; bounded in size."""

    def __init__(self, window_s: float, max_tracked: int) -> None:
        self._window = window_s
        self._max = max_tracked
        self._seen: dict[str, tuple[float, int]] = {}

    def add(self, key: str, now: float) -> int:
        start, count = self._current(key, now)
        if key not in self._seen and len(self._seen) >= self._max:
            self._prune(now)
        self._seen[key] = (start, count + 1)
        return count + 1

    def retry_after(self, key: str, now: float, limit: int) -> float | None:
        start, count = self._current(key, now)
        return start + self._window - now if count >= limit else None

    def _current(self, key: str, now: float) -> tuple[float, int]:
        start, count = self._seen.get(key, (now, 0))
        return (now, 0) if now - start >= self._window else (start, count)

    def _prune(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self._window}
        if len(self._seen) >= self._max:  # a flood of distinct keys: forget the oldest half
            kept = sorted(self._seen.items(), key=lambda kv: kv[1][0])[self._max // 2 :]
            self._seen = dict(kept)


class RefusalRecorder:
    """Built once by the composition root, handed its sinks: the audit log, alerts and the
    metrics registry (each None when that concern is off)."""

    def __init__(
        self,
        settings: RefusalSettings,
        *,
        audit: AuditSink | None = None,
        alerts: AlertSink | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._wall = wall
        self._failures = FailureWindows(settings.window_s, settings.max_tracked)
        self._audit = audit
        self._alerts = alerts
        self._counter: Any = None
        if registry is not None:
            from prometheus_client import Counter

            self._counter = Counter(
                "bastion_auth_failures",
                "Refused requests: failed authentications, forbidden and throttled calls",
                ["reason"],
                registry=registry,
            )
        self._window_start = clock()
        self._audited = 0
        self._suppressed: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._good: dict[bytes, float] = {}  # digest of a credential → when it last worked

    def succeeded(self, authorization: str) -> None:
        """Remember that this credential authenticated (by digest), so that it is still
        checked while its address is slowed down for others' failures."""
        now = self._clock()
        digest = hashlib.blake2b(authorization.encode(), digest_size=16).digest()
        seen = self._good.get(digest)
        if seen is not None and now - seen < 1.0:
            return  # fresh enough: skip the write on the hot path
        if len(self._good) >= self.settings.max_tracked:
            self._good.clear()
        self._good[digest] = now

    def known_good(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        digest = hashlib.blake2b(authorization.encode(), digest_size=16).digest()
        seen = self._good.get(digest)
        return seen is not None and self._clock() - seen < self.settings.remember_good_s

    def throttled(self, address: str, key_prefix: str | None) -> float | None:
        """Seconds until ``address`` (or ``key_prefix``) may try again, or None."""
        now, limit = self._clock(), self.settings.max_failures
        waits = [self._failures.retry_after(f"addr:{address}", now, limit)]
        if key_prefix:
            waits.append(self._failures.retry_after(f"key:{key_prefix}", now, limit))
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def refused(self, refusal: Refusal) -> None:
        """Record ``refusal`` (never raises; audit and alert writes run in the background)."""
        if self._counter is not None:
            self._counter.labels(refusal.reason).inc()
        if refusal.status == 401:
            self._count_failure(refusal)
        self._audit_sampled(refusal)
        log.info(
            "request_refused",
            status=refusal.status,
            reason=refusal.reason,
            path=refusal.path,
            network=network_of(refusal.address),
            key_id=refusal.principal.key_id if refusal.principal else None,
            request_id=refusal.request_id,
        )

    def _count_failure(self, refusal: Refusal) -> None:
        now, limit = self._clock(), self.settings.max_failures
        keys = [f"addr:{refusal.address}"]
        if refusal.key_prefix:
            keys.append(f"key:{refusal.key_prefix}")
        for key in keys:
            if self._failures.add(key, now) == limit:  # crossed now: one alert per window
                self._alert(key, refusal)

    def _alert(self, key: str, refusal: Refusal) -> None:
        log.warning("auth_failures_throttled", subject=key, limit=self.settings.max_failures)
        if self._alerts is None:
            return
        window = self.settings.window_s
        subject = f"addr:{network_of(refusal.address)}" if key.startswith("addr:") else key
        summary = (
            f"{self.settings.max_failures} failed authentications from {subject} within "
            f"{window:g}s; it is slowed down (429) until the window ends"
        )
        details = {"subject": subject, "failures": self.settings.max_failures, "window_s": window}
        self._spawn(
            self._alerts.fire(
                "auth_failures",
                severity="warning",
                deployment=None,
                summary=summary,
                details=details,
                dedupe_key=f"auth_failures:{subject}",
                expires_at=self._wall() + timedelta(seconds=window),
            )
        )

    def _audit_sampled(self, refusal: Refusal) -> None:
        if self._audit is None:
            return
        now = self._clock()
        if now - self._window_start >= self.settings.window_s:
            self._flush_suppressed()
            self._window_start, self._audited = now, 0
        if self._audited >= self.settings.audit_per_window:
            self._suppressed[refusal.reason] = self._suppressed.get(refusal.reason, 0) + 1
            return
        self._audited += 1
        self._audit.append_soon(self._entry(refusal))

    def _entry(self, r: Refusal) -> AuditEntry:
        p = r.principal
        action = {401: "auth.failed", 429: "auth.throttled"}.get(r.status, "access.refused")
        return AuditEntry(
            kind="admin",
            action=action,
            at=self._wall(),
            actor_key_id=p.key_id if p else None,
            actor_name=p.name if p else None,
            tenant=p.tenant if p else None,
            request_id=r.request_id or None,
            status="refused",
            error_type=r.reason,
            target=f"{r.method} {r.path}"[:255],
            details={
                "status": r.status,
                "reason": r.reason,
                "network": network_of(r.address),
                "key_prefix": r.key_prefix,
                "message": r.message[:500],
            },
        )

    def _flush_suppressed(self) -> None:
        if not self._suppressed or self._audit is None:
            self._suppressed = {}
            return
        counts, self._suppressed = self._suppressed, {}
        self._audit.append_soon(
            AuditEntry(
                kind="admin",
                action="auth.refusals_suppressed",
                at=self._wall(),
                status="refused",
                details={
                    "counts": counts,
                    "window_s": self.settings.window_s,
                    "audited_per_window": self.settings.audit_per_window,
                },
            )
        )

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Write the summary of refusals counted but not audited one by one."""
        self._flush_suppressed()
