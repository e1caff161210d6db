"""Notifications: JSON and Slack bodies, retries with backoff, refusals, secrets kept out."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import orjson
from structlog.testing import capture_logs

from bastion.observability.alerts import Alert, Notification, Notifier
from bastion.observability.alerts.notify import redact_url
from bastion.observability.alerts.payloads import slack_payload
from bastion.settings.alerts import WebhookSettings
from tests.observability.alerts.conftest import Receiver

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _alert(severity: str = "critical", resolved: bool = False) -> Alert:
    return Alert(
        id=7,
        dedupe_key="errors:fraud",
        rule="errors",
        kind="error_rate",
        source="rule",
        deployment="fraud",
        severity=severity,
        summary="error rate of fraud is 60.0%, above 5.0% (over 300s)",
        details={"errors": 30, "requests": 50},
        fired_at=NOW,
        last_seen_at=NOW,
        last_seen_by="p1",
        resolved_at=NOW if resolved else None,
    )


def _hook(receiver: Receiver, name: str, path: str, **kw: object) -> WebhookSettings:
    return WebhookSettings.model_validate({"name": name, "url": receiver.at(path), **kw})


async def test_json_and_slack_webhooks_get_their_own_shapes(receiver: Receiver) -> None:
    notifier = Notifier(
        [
            _hook(receiver, "ops", "/ops", secret="s3cret"),
            _hook(receiver, "slack", "/services/T000/B000/XXXXtoken", format="slack"),
        ]
    )
    notifier.notify(Notification("firing", _alert()))
    await notifier.drain(5)
    by_path = {path: (body, headers) for path, body, headers in receiver.bodies}
    body, headers = by_path["/ops"]
    assert body["status"] == "firing" and body["alert"]["id"] == 7
    assert body["alert"]["fired_at"] == "2025-06-01T12:00:00+00:00"
    assert body["alert"]["state"] == "firing" and body["alert"]["details"]["errors"] == 30
    assert headers["x-bastion-event"] == "alert.firing"
    expected = hmac.new(b"s3cret", orjson.dumps(body), hashlib.sha256).hexdigest()
    assert headers["x-bastion-signature"] == f"sha256={expected}"
    slack, _ = by_path["/services/T000/B000/XXXXtoken"]
    assert slack["text"].startswith(":red_circle: [FIRING] critical: errors on fraud")
    assert slack["blocks"][0]["type"] == "section"
    assert any(f["text"] == "*Deployment*\nfraud" for f in slack["blocks"][1]["fields"])
    await notifier.aclose()


def test_resolved_slack_message() -> None:
    body = slack_payload("resolved", _alert(resolved=True))
    assert body["text"].startswith(":white_check_mark: [RESOLVED]")
    assert any(f["text"].startswith("*Resolved*") for f in body["blocks"][1]["fields"])


async def test_retries_with_backoff_then_delivers(receiver: Receiver) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    receiver.fail = [503, 500, 429]
    notifier = Notifier([_hook(receiver, "ops", "/ops")], backoff_s=0.5, sleep=sleep)
    assert await notifier.deliver(notifier.webhooks[0], Notification("firing", _alert()))
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(receiver.bodies) == 1
    await notifier.aclose()


async def test_gives_up_on_a_refusal_and_after_its_attempts(receiver: Receiver) -> None:
    async def sleep(seconds: float) -> None:
        return None

    receiver.fail = [400]
    secret_url = "/hooks/token-abc123?key=hunter2"
    notifier = Notifier([_hook(receiver, "ops", secret_url)], attempts=3, sleep=sleep)
    with capture_logs() as logs:
        assert not await notifier.deliver(notifier.webhooks[0], Notification("firing", _alert()))
        receiver.fail = [500, 500, 500, 500]
        assert not await notifier.deliver(notifier.webhooks[0], Notification("firing", _alert()))
    failed = [e for e in logs if e["event"] == "alert_webhook_failed"]
    assert [(e["status"], e["attempts"]) for e in failed] == [(400, 1), (500, 3)]
    assert "token-abc123" not in repr(logs) and "hunter2" not in repr(logs)
    assert failed[0]["url"] == f"{receiver.url}/…"
    assert receiver.fail == [500]  # the refusal was not retried; the 500s were, three times
    await notifier.aclose()


async def test_unreachable_receiver_and_severity_filter(receiver: Receiver) -> None:
    async def sleep(seconds: float) -> None:
        return None

    hooks = [
        WebhookSettings.model_validate({"name": "dead", "url": "http://127.0.0.1:9/x"}),
        _hook(receiver, "pager", "/pager", min_severity="critical"),
    ]
    notifier = Notifier(hooks, attempts=2, timeout_s=1, sleep=sleep)
    with capture_logs() as logs:
        notifier.notify(Notification("firing", _alert(severity="warning")))
        notifier.notify(Notification("resolved", _alert(severity="critical", resolved=True)))
        await notifier.drain(10)
    assert [b["status"] for b in receiver.posted("/pager")] == ["resolved"]
    events = [e["event"] for e in logs]
    assert events.count("alert_fired") == 1 and events.count("alert_resolved") == 1
    assert events.count("alert_webhook_failed") == 2  # the dead one, for both notices
    await notifier.aclose()


async def test_a_full_queue_drops_instead_of_blocking(receiver: Receiver) -> None:
    notifier = Notifier([_hook(receiver, "ops", "/ops")], max_pending=1)
    with capture_logs() as logs:
        for _ in range(3):
            notifier.notify(Notification("firing", _alert()))
        await notifier.drain(5)
    assert len(receiver.bodies) == 1
    assert [e["event"] for e in logs].count("alert_webhook_dropped") == 2
    await notifier.aclose()


def test_redact_url_keeps_only_where() -> None:
    assert redact_url("https://hooks.slack.com/services/T/B/secret") == "https://hooks.slack.com/…"
    assert redact_url("http://user:pw@10.0.0.1:8080/x?token=1") == "http://10.0.0.1:8080/…"
