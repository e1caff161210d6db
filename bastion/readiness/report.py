"""A readiness report as JSON, JUnit XML (for CI) or a Rich table (for people)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

from bastion.readiness.base import Result
from bastion.readiness.score import Score

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


def as_dict(results: Sequence[Result], total: Score, url: str) -> dict[str, Any]:
    return {
        "server": url,
        "score": total.to_dict(),
        "items": [
            {
                "id": r.check.id,
                "section": r.check.section,
                "title": r.check.title,
                "status": r.outcome.status,
                "points": r.outcome.points if r.outcome.status != "skip" else None,
                "automated": r.outcome.automated,
                "evidence": r.outcome.evidence,
                "fix": r.outcome.fix,
            }
            for r in results
        ],
    }


def as_junit(results: Sequence[Result], total: Score) -> str:
    """One testsuite per section, one testcase per item: fail → <failure>, skip → <skipped>;
    a warning passes, with its evidence and fix in <system-out>."""
    root = ET.Element(
        "testsuites",
        name="bastion check",
        tests=str(len(results)),
        failures=str(total.failed),
    )
    for section in total.sections:
        mine = [r for r in results if r.check.section == section]
        if not mine:
            continue
        suite = ET.SubElement(
            root,
            "testsuite",
            name=section,
            tests=str(len(mine)),
            failures=str(sum(r.outcome.status == "fail" for r in mine)),
            skipped=str(sum(r.outcome.status == "skip" for r in mine)),
        )
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=section, name=r.check.id)
            o = r.outcome
            if o.status == "fail":
                ET.SubElement(case, "failure", message=o.evidence).text = f"fix: {o.fix}"
            elif o.status == "skip":
                ET.SubElement(case, "skipped", message=o.evidence)
            else:
                out = f"{o.status}: {o.evidence}" + (f"\nfix: {o.fix}" if o.fix else "")
                ET.SubElement(case, "system-out").text = out
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def as_table(results: Sequence[Result], total: Score) -> Any:
    """A Rich renderable: items by section, then the scores."""
    from rich.console import Group
    from rich.table import Table

    items = Table(title="Production readiness", show_lines=False, expand=True)
    for column in ("section", "item", "status", "evidence / fix"):
        items.add_column(column, overflow="fold")
    for r in results:
        o = r.outcome
        style = _STYLE[o.status]
        text = o.evidence + (f"\n[bold]fix:[/bold] {o.fix}" if o.fix and o.status != "pass" else "")
        items.add_row(r.check.section, r.check.title, f"[{style}]{o.status}[/{style}]", text)
    scores = Table(title="ML Test Score (automated 1, manual 0.5; final = lowest section)")
    scores.add_column("section")
    scores.add_column("score", justify="right")
    for section, value in total.sections.items():
        if total.maxima[section]:
            scores.add_row(section, f"{value:g} / {total.maxima[section]:g}")
    scores.add_row("[bold]final[/bold]", f"[bold]{total.final:g}[/bold]")
    return Group(items, scores)
