"""Budget rules: a threshold crossed in a budget window becomes an alert until the window ends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bastion.observability.alerts.history import NewAlert
from bastion.observability.alerts.rules import applies_to, dedupe_key
from bastion.settings.alerts import AlertRuleSettings


def window_end(window_id: str) -> datetime | None:
    """The end of a budget window: ``2025-06-01`` (a UTC day) or ``2025-06`` (a month)."""
    try:
        if len(window_id) == 10:
            return datetime.strptime(window_id, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(1)
        if len(window_id) == 7:
            start = datetime.strptime(window_id, "%Y-%m").replace(tzinfo=UTC)
            return (start + timedelta(days=32)).replace(day=1)
    except ValueError:
        return None
    return None


def budget_alerts(
    rules: Sequence[AlertRuleSettings], deployment: str, event: Any
) -> list[tuple[AlertRuleSettings, NewAlert]]:
    """The alerts one ``BudgetThresholdCrossed`` raises: one per budget rule whose threshold
    it reached. Keyed by budget and window, so each crossing notifies once per window."""
    fraction = float(getattr(event, "fraction", 0.0))
    scope, subject = str(getattr(event, "scope", "")), str(getattr(event, "key", ""))
    window, unit = str(getattr(event, "window", "")), str(getattr(event, "unit", "usd"))
    spent, limit = getattr(event, "spent", None), getattr(event, "limit", None)
    out: list[tuple[AlertRuleSettings, NewAlert]] = []
    for rule in rules:
        if rule.kind != "budget" or fraction < rule.threshold or not applies_to(rule, deployment):
            continue
        summary = (
            f"{scope} '{subject}' has used {fraction:.0%} of its {unit} budget for {window}"
            f" ({_amount(spent, unit)} of {_amount(limit, unit)})"
        )
        details: dict[str, Any] = {
            "scope": scope,
            "subject": subject,
            "window": window,
            "fraction": fraction,
            "spent": spent,
            "limit": limit,
            "unit": unit,
            "threshold": rule.threshold,
        }
        if rule.runbook_url:
            details["runbook_url"] = rule.runbook_url
        # keyed by the rule's own threshold: a later crossing (0.8) does not fire the 0.5
        # rule again within the window
        key = dedupe_key(rule.name, f"{scope}={subject}", window, f"{rule.threshold:g}")
        alert = NewAlert(
            key,
            rule.name,
            "budget",
            rule.severity,
            summary,
            deployment,
            details,
            "event",
            window_end(window),
        )
        out.append((rule, alert))
    return out


def _amount(value: Any, unit: str) -> str:
    """Enough digits to tell amounts apart: $0.005 of $0.01, $1,234.50 of $2,000.00."""
    if not isinstance(value, int | float):
        return "?"
    if unit != "usd":
        return f"{value:,.0f} {unit}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    shown = f"{value:.6f}".rstrip("0").rstrip(".")
    if shown in ("0", "-0") and value != 0:
        shown = f"{value:.2g}"  # below a micro-dollar
    return f"${shown}"
