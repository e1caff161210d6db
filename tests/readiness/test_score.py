"""Scoring like the ML Test Score, running checks safely, and the three report formats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from rich.console import Console

from bastion.readiness import Check, Context, Outcome, Refused, run_checks, score
from bastion.readiness.report import as_dict, as_junit, as_table


class _NoApi:
    base_url = "http://127.0.0.1:8000"

    def get(self, path: str, **params: Any) -> Any:
        raise Refused(403, "forbidden", "this route needs one of the roles: admin")

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        raise AssertionError("not used")


def _ctx() -> Context:
    return Context(api=_NoApi(), facts={}, now=datetime.now(UTC))


def _fixed(section: str, name: str, outcome: Outcome) -> Check:
    return Check(name, section, name.title(), lambda _ctx: outcome)


def test_points_follow_the_ml_test_score() -> None:
    assert Outcome("pass", "").points == 1.0
    assert Outcome("pass", "", automated=False).points == 0.5
    assert Outcome("warn", "").points == 0.5
    assert Outcome("fail", "").points == 0.0


def test_the_final_score_is_the_lowest_section_and_skips_do_not_count() -> None:
    checks = [
        _fixed("reliability", "a", Outcome("pass", "")),
        _fixed("reliability", "b", Outcome("pass", "")),
        _fixed("security", "c", Outcome("warn", "")),
        _fixed("security", "d", Outcome("pass", "", automated=False)),
        _fixed("cost", "e", Outcome("skip", "n/a")),
    ]
    total = score(run_checks(checks, _ctx()))
    assert total.sections["reliability"] == 2.0 and total.sections["security"] == 1.0
    assert total.maxima["cost"] == 0.0  # nothing applicable: not a zero section
    assert total.final == 1.0
    assert total.failed == 0 and total.warned == 1


def test_a_refusal_fails_that_item_and_the_run_goes_on() -> None:
    def asks(ctx: Context) -> Outcome:
        ctx.api.get("/v1/admin/keys")
        return Outcome("pass", "")

    results = run_checks(
        [Check("asks", "security", "Asks", asks), _fixed("data", "ok", Outcome("pass", ""))],
        _ctx(),
    )
    first, second = (r.outcome for r in results)
    assert first.status == "fail" and "403 forbidden" in first.evidence
    assert second.status == "pass"
    assert score(results).failed == 1


def test_reports_carry_every_item_with_evidence_and_fix() -> None:
    checks = [
        _fixed("operations", "runbooks", Outcome("fail", "2 missing", "write them")),
        _fixed("operations", "restore", Outcome("warn", "old", "restore again")),
        _fixed("model", "gates", Outcome("skip", "no production alias")),
        _fixed("model", "sets", Outcome("pass", "all there")),
    ]
    results = run_checks(checks, _ctx())
    total = score(results)
    doc = as_dict(results, total, "http://x")
    assert [i["status"] for i in doc["items"]] == ["fail", "warn", "skip", "pass"]
    assert doc["items"][0]["fix"] == "write them" and doc["items"][2]["points"] is None
    assert doc["score"]["final"] == 0.5  # operations: 0 + 0.5; model: 1

    root = ET.fromstring(as_junit(results, total).split("?>", 1)[1])
    assert root.attrib["failures"] == "1"
    (failure,) = root.iter("failure")
    assert failure.attrib["message"] == "2 missing" and failure.text == "fix: write them"
    assert len(list(root.iter("skipped"))) == 1

    console = Console(record=True, width=160)
    console.print(as_table(results, total))
    text = console.export_text()
    assert "runbooks" in text.lower() and "write them" in text and "final" in text
