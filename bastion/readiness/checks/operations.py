"""Operations: a runbook behind every alert, a tested restore, a recent backup."""

from __future__ import annotations

from pathlib import Path

import httpx

from bastion.readiness.base import Check, Context, Outcome, age_days, listed

SECTION = "operations"
BACKUP_MAX_AGE_DAYS = 7.0


def _resolves(url: str) -> bool:
    """An http(s) runbook answers 2xx; a path exists (relative to the current directory)."""
    if url.startswith(("http://", "https://")):
        try:
            return httpx.get(url, timeout=5, follow_redirects=True).status_code < 300
        except httpx.HTTPError:
            return False
    return Path(url.split("#", 1)[0]).is_file()


def runbooks(ctx: Context) -> Outcome:
    rules = ctx.facts["alerts"]["rules"]
    if not rules:
        return Outcome(
            "fail", "no alert rules, so no runbooks are linked", "configure alerts.rules"
        )
    missing = [r["name"] for r in rules if not r.get("runbook_url")]
    urls = sorted({r["runbook_url"] for r in rules if r.get("runbook_url")})
    broken = [u for u in urls if not _resolves(u)]
    if missing or broken:
        parts = []
        if missing:
            parts.append(f"rules without runbook_url: {listed(missing)}")
        if broken:
            parts.append(f"runbooks not found: {listed(broken)}")
        return Outcome(
            "fail",
            "; ".join(parts),
            "set alerts.runbook_base_url to where docs/runbooks is published",
        )
    return Outcome("pass", f"{len(rules)} rules, {len(urls)} runbooks found")


def restore_tested(ctx: Context) -> Outcome:
    max_age = ctx.facts["readiness"]["max_restore_age_days"]
    records = ctx.once("/v1/admin/operations/records", kind="restore", limit=20)["data"]
    good = [r for r in records if r["passed"]]
    fix = (
        "restore the latest backup into a scratch place "
        "(`bastion restore BACKUP --data-dir DIR --report-url URL`)"
    )
    if not good:
        return Outcome("fail", "no restore has ever been tested", fix)
    age = age_days(good[0]["created_at"], ctx.now)
    if age > max_age:
        return Outcome("warn", f"last tested restore {age:.0f} days ago (limit {max_age:g})", fix)
    return Outcome("pass", f"restore tested {age:.1f} days ago: {good[0]['summary']}")


def backups(ctx: Context) -> Outcome:
    records = ctx.once("/v1/admin/operations/records", kind="backup", limit=20)["data"]
    if not records:
        return Outcome(
            "fail", "no backup recorded", "schedule `bastion backup --out DIR` (docs/backup.md)"
        )
    age = age_days(records[0]["created_at"], ctx.now)
    if age > BACKUP_MAX_AGE_DAYS:
        return Outcome(
            "warn",
            f"last backup {age:.0f} days ago",
            "schedule `bastion backup` daily (docs/backup.md)",
        )
    return Outcome("pass", f"backup {age:.1f} days ago: {records[0]['summary']}")


CHECKS = [
    Check("runbooks", SECTION, "A runbook behind every alert", runbooks),
    Check("restore-tested", SECTION, "A restore tested recently", restore_tested),
    Check("backups", SECTION, "A recent backup", backups),
]
