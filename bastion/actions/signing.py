"""Signed webhooks: HMAC-SHA256 over ``timestamp.body``, and the helper receivers import.

Bastion sends three headers with every signed delivery::

    x-bastion-id:         the event's id (the idempotency key; the same on every retry)
    x-bastion-timestamp:  Unix seconds when this attempt was signed
    x-bastion-signature:  v1=<hex HMAC-SHA256 of f"{timestamp}.{body}">

A receiver checks them with :func:`verify` (or :class:`WebhookVerifier`, which also refuses
a delivery seen before within the window)::

    from bastion.actions.signing import WebhookVerifier, SignatureError

    verifier = WebhookVerifier(secret=os.environ["BASTION_WEBHOOK_SECRET"])
    try:
        verifier.verify(request_body_bytes, request_headers)
    except SignatureError as exc:
        return 400, str(exc)

The signature covers the timestamp, so an old delivery replayed later is refused once it is
outside ``tolerance_s`` (default 300 s), and a replay inside it is refused by the verifier's
memory of signatures (a retry by Bastion is signed anew, so it is not a replay: deduplicate
retried deliveries on ``x-bastion-id``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

ID_HEADER = "x-bastion-id"
TIMESTAMP_HEADER = "x-bastion-timestamp"
SIGNATURE_HEADER = "x-bastion-signature"
DEFAULT_TOLERANCE_S = 300.0


class SignatureError(Exception):
    """The delivery is not authentic, or is too old, or was seen before."""


def signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def sign(
    secret: str | bytes, body: bytes, event_id: str, now: Callable[[], float] = time.time
) -> dict[str, str]:
    """The headers for one delivery of ``body``."""
    ts = int(now())
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature(secret, ts, body),
    }


def verify(
    secret: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: Callable[[], float] = time.time,
) -> str:
    """Check one delivery; return its event id, or raise SignatureError saying why not."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ts_text = lowered.get(TIMESTAMP_HEADER, "")
    given = lowered.get(SIGNATURE_HEADER, "")
    event_id = lowered.get(ID_HEADER, "")
    if not ts_text.isdigit() or not given or not event_id:
        raise SignatureError("missing or malformed x-bastion-timestamp / -signature / -id")
    ts = int(ts_text)
    if abs(now() - ts) > tolerance_s:
        raise SignatureError(f"timestamp is outside the {tolerance_s:g}s window (replayed?)")
    expected = signature(secret, ts, body)
    if not any(hmac.compare_digest(expected, part.strip()) for part in given.split(",")):
        raise SignatureError("signature does not match the body (tampered, or wrong secret)")
    return event_id


class WebhookVerifier:
    """:func:`verify` plus a memory of the signatures seen within the window: an exact
    replay of a delivery is refused."""

    def __init__(
        self,
        secret: str | bytes,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        max_ids: int = 100_000,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._tolerance_s = tolerance_s
        self._max_ids = max_ids
        self._now = now
        self._seen: OrderedDict[str, float] = OrderedDict()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        event_id = verify(self._secret, body, headers, tolerance_s=self._tolerance_s, now=self._now)
        lowered = {k.lower(): v for k, v in headers.items()}
        seen_key = lowered[SIGNATURE_HEADER]  # an exact replay repeats the signature
        self._forget_old()
        if seen_key in self._seen:
            raise SignatureError(f"delivery {event_id} was already received (replayed)")
        self._seen[seen_key] = self._now()
        if len(self._seen) > self._max_ids:
            self._seen.popitem(last=False)
        return event_id

    def _forget_old(self) -> None:
        horizon = self._now() - 2 * self._tolerance_s
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if at >= horizon:
                break
            del self._seen[key]
