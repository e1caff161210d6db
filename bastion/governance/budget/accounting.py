"""Rules shared by every budget store: estimate bounds, refusals and threshold crossings."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from decimal import Decimal

from bastion.errors import BudgetExceeded, InvalidRequest
from bastion.governance.budget.base import (
    MICROS_PER_USD,
    UNITS,
    Bucket,
    BudgetThresholdCrossed,
    Usage,
)

Mark = tuple[int, float, int]  # (unit index, fraction, amount at which it is crossed)


def new_reservation_id() -> str:
    return secrets.token_hex(12)


def check_estimate(buckets: Sequence[Bucket], estimate: Usage) -> None:
    """An estimate bigger than a whole budget can never fit: that is the request's fault."""
    for bucket in buckets:
        for unit, (limit, amount) in enumerate(zip(bucket.limits, estimate.amounts, strict=True)):
            if limit is not None and amount > limit:
                raise InvalidRequest(
                    f"the estimated {_show(unit, amount)} exceeds the whole {_per(bucket.window)} "
                    f"budget of {_show(unit, limit)} for {bucket.scope} '{bucket.subject}'; "
                    "lower max_tokens or split the request",
                    details={"scope": bucket.scope, "window": bucket.window_id},
                )


def first_refusal(bucket: Bucket, used: tuple[int, int, int], estimate: Usage) -> int | None:
    """The first unit where ``used + estimate`` would exceed the limit (or it is used up)."""
    for unit, (limit, u, e) in enumerate(zip(bucket.limits, used, estimate.amounts, strict=True)):
        if limit is not None and (u + e > limit or u >= limit):
            return unit
    return None


def refusal(bucket: Bucket, unit: int, used: int, now: float) -> BudgetExceeded:
    """The 429 for a full bucket, retryable when its window ends."""
    limit = bucket.limits[unit] or 0
    return BudgetExceeded(
        f"{bucket.scope} '{bucket.subject}' has spent or reserved {_show(unit, used)} of its "
        f"{_show(unit, limit)} {_per(bucket.window)} budget (window {bucket.window_id}, UTC)",
        retry_after=max(math.ceil(bucket.ends_at - now), 1),
        details={"scope": bucket.scope, "window": bucket.window_id, "unit": UNITS[unit]},
    )


def marks(bucket: Bucket) -> list[Mark]:
    """Each (unit, fraction) threshold and the exact integer amount that crosses it."""
    out = []
    for unit, limit in enumerate(bucket.limits):
        if limit is not None:
            for fraction in bucket.thresholds:
                amount = math.ceil(Decimal(str(fraction)) * limit)
                out.append((unit, fraction, amount))
    return out


def crossed(bucket: Bucket, unit: int, fraction: float, spent: int) -> BudgetThresholdCrossed:
    limit = bucket.limits[unit] or 0
    scale = MICROS_PER_USD if unit == 0 else 1
    return BudgetThresholdCrossed(
        scope=bucket.scope,
        key=bucket.subject,
        window=bucket.window_id,
        fraction=fraction,
        spent=spent / scale,
        limit=limit / scale,
        unit=UNITS[unit],
    )


def _show(unit: int, amount: int) -> str:
    if unit == 0:
        return f"${Decimal(amount) / MICROS_PER_USD:.4f}"
    return f"{amount} {UNITS[unit]}"


def _per(window: str) -> str:
    return "daily" if window == "day" else "monthly"
