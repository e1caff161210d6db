from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bastion.monitoring import DriftMonitor, DriftReport, build_profile, render_html, write_charts
from tests.monitoring.simulate import SHIFTED, SHIFTED_CHANNEL_P, reference, run_windows


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(11)
    (shifted,) = run_windows(
        reference(rng, n=3000), 1, 400, rng, shift=SHIFTED, channel_p=SHIFTED_CHANNEL_P
    )
    return shifted


def test_to_dict_is_plain_json(report: DriftReport) -> None:
    doc = report.to_dict()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["status"] == "drift"
    names = {f["name"] for f in doc["features"]}
    assert {"f00", "channel", "country"} <= names
    assert doc["prediction"]["role"] == "prediction"
    assert doc["tests"] == len(doc["features"]) + 2


def test_text_table_lists_the_drifted_signals_first(report: DriftReport) -> None:
    text = report.to_text()
    lines = text.splitlines()
    assert lines[0].startswith("sim v1: DRIFT")
    assert "psi" in lines[1] and "p_adj" in lines[1]
    drifted = {line.split()[0] for line in lines[2:] if line.split()[1] == "drift"}
    assert drifted == set(report.drifted())
    first_ok = next(i for i, line in enumerate(lines[2:]) if line.split()[1] != "drift")
    assert all(line.split()[1] != "drift" for line in lines[2 + first_ok :])


def test_html_is_self_contained(report: DriftReport) -> None:
    page = render_html(report)
    assert page.startswith("<!doctype html>") and "<svg" in page
    for external in ("<script", "src=", "href=", "@import", "cdn"):
        assert external not in page.lower()
    assert page.count('<div class="panel">') == len(report.features) + 2  # + prediction, confidence
    assert "f00" in page and "significant and large" in page


def test_html_escapes_names() -> None:
    rng = np.random.default_rng(0)
    profile = build_profile([{"<b>x</b>": float(v)} for v in rng.normal(size=500)])
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("<dep>", 1, profile)
    monitor.observe("<dep>", 1, {"<b>x</b>": 0.0})
    page = render_html(monitor.report("<dep>"))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_write_charts_writes_png_when_matplotlib_is_installed(
    report: DriftReport, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    files = write_charts(report, tmp_path)
    assert files.html.read_text().startswith("<!doctype html>")
    assert files.png is not None and files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_charts_without_matplotlib_writes_html_and_says_so(
    report: DriftReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def no_matplotlib(name: str, package: str | None = None) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    files = write_charts(report, tmp_path, stem="only-html")
    assert files.png is None and "matplotlib is not installed" in files.note
    assert files.html.exists() and not (tmp_path / "only-html.png").exists()


def test_report_methods_delegate_to_the_charts(report: DriftReport, tmp_path: Path) -> None:
    assert report.to_html() == render_html(report)
    files = report.write_charts(tmp_path, stem="r")
    assert files.html == tmp_path / "r.html" and files.html.exists()
