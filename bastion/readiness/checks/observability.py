"""Observability: alert rules configured, a test notification delivered, the audit chain whole."""

from __future__ import annotations

from bastion.readiness.base import Check, Context, Outcome, Refused, listed

SECTION = "observability"
_CORE_KINDS = {"latency_p95", "error_rate"}


def alert_rules(ctx: Context) -> Outcome:
    alerts = ctx.facts["alerts"]
    rules = alerts["rules"]
    if not alerts["enabled"]:
        return Outcome(
            "fail", "alerting is off (alerts.enabled: false)", "set alerts.enabled: true"
        )
    if not rules:
        return Outcome(
            "fail",
            "no alert rules are configured: nothing watches latency, errors or cost",
            "add alerts.rules (start from `bastion export prometheus-rules`'s set; docs/alerts.md)",
        )
    kinds = {r["kind"] for r in rules}
    missing = sorted(_CORE_KINDS - kinds)
    if missing:
        return Outcome(
            "warn",
            f"{len(rules)} rules, but none of kind {', '.join(missing)}",
            "add a latency_p95 rule at the SLO and an error_rate rule",
        )
    return Outcome("pass", f"{len(rules)} rules: {listed(sorted(r['name'] for r in rules))}")


def alert_delivery(ctx: Context) -> Outcome:
    """A test notification posted to every webhook, delivered (2xx) or not."""
    hooks = ctx.facts["alerts"]["webhooks"]
    if not hooks:
        return Outcome(
            "fail",
            "no notification webhooks: alerts fire into the log only",
            "add alerts.webhooks (Slack or JSON) so that a person is paged",
        )
    if not ctx.drills:
        return Outcome(
            "warn", "test notification not sent (--no-drills)", "run with drills on", False
        )
    try:
        res = ctx.api.post("/v1/admin/alerts/test")
    except Refused as exc:
        return Outcome("fail", f"test notification refused: {exc.message}", "see the server log")
    failed = [d["webhook"] for d in res["data"] if not d["delivered"]]
    if failed:
        return Outcome(
            "fail",
            f"test notification not delivered to: {listed(failed)}",
            "check the webhook URL and the receiver (server log: alert_webhook_failed)",
        )
    return Outcome("pass", f"test notification delivered to {listed(sorted(hooks))}")


def audit_chain(ctx: Context) -> Outcome:
    if not ctx.facts["audit"]["enabled"]:
        return Outcome("fail", "the audit log is off (audit.enabled: false)", "turn it on")
    try:
        report = ctx.api.post("/v1/admin/audit/verify", {})
    except Refused as exc:
        return Outcome("fail", f"audit verification refused: {exc.message}", "see the log")
    if not report["ok"]:
        broken = report.get("broken") or {}
        return Outcome(
            "fail",
            f"audit chain broken at seq {broken.get('seq')}: {broken.get('message')}",
            "follow docs/runbooks/audit-verification-failure.md",
        )
    return Outcome("pass", f"audit chain verified over {report['checked']} records")


def metrics(ctx: Context) -> Outcome:
    if not ctx.facts["observability"]["metrics_enabled"]:
        return Outcome(
            "fail", "Prometheus metrics are off", "set observability.metrics_enabled: true"
        )
    return Outcome("pass", "Prometheus metrics on /metrics, autoscaling signals included")


CHECKS = [
    Check("alert-rules", SECTION, "Alert rules configured", alert_rules),
    Check("alert-delivery", SECTION, "A test notification is delivered", alert_delivery),
    Check("audit-chain", SECTION, "The audit chain verifies", audit_chain),
    Check("metrics", SECTION, "Metrics exported", metrics),
]
