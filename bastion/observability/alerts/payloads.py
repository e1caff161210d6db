"""Notification bodies: Bastion's generic JSON, and Slack's ``{"text", "blocks"}`` shape."""

from __future__ import annotations

from typing import Any

from bastion.observability.alerts.history import Alert

_ICONS = {
    "critical": ":red_circle:",
    "warning": ":large_orange_circle:",
    "info": ":large_blue_circle:",
}
_MAX_DETAIL_FIELDS = 8


def json_payload(status: str, alert: Alert) -> dict[str, Any]:
    """``{"version": 1, "status": "firing"|"resolved", "alert": {...}}``; ``alert.id`` and
    ``status`` together identify a notification (receivers may dedupe on them)."""
    return {"version": 1, "source": "bastion", "status": status, "alert": alert.to_dict()}


def headline(status: str, alert: Alert) -> str:
    where = f" on {alert.deployment}" if alert.deployment else ""
    return f"[{status.upper()}] {alert.severity}: {alert.rule}{where}: {alert.summary}"


def slack_payload(status: str, alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook body; ``text`` is the fallback that notifications show."""
    icon = ":white_check_mark:" if status == "resolved" else _ICONS.get(alert.severity, "")
    text = f"{icon} {headline(status, alert)}".strip()
    fields = [
        _field("Rule", alert.rule),
        _field("Severity", alert.severity),
        _field("Deployment", alert.deployment or "-"),
        _field("Fired", alert.fired_at.isoformat(timespec="seconds")),
    ]
    if alert.resolved_at is not None:
        fields.append(_field("Resolved", alert.resolved_at.isoformat(timespec="seconds")))
    runbook = alert.details.get("runbook_url")
    if runbook:
        fields.append(_field("Runbook", f"<{runbook}|runbook>"))
    details = [
        _field(str(key), _short(value))
        for key, value in list(alert.details.items())[:_MAX_DETAIL_FIELDS]
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{icon} *{status.upper()}* {alert.summary}"},
        },
        {"type": "section", "fields": fields},
    ]
    if details:
        blocks.append({"type": "section", "fields": details})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"alert #{alert.id} · {alert.dedupe_key}"}],
        }
    )
    return {"text": text, "blocks": blocks}


def _field(name: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{name}*\n{value}"}


def _short(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
