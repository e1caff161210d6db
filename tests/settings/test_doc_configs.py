"""Every YAML config snippet of the README and docs/ is accepted by the settings as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bastion.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FOREIGN = re.compile(r"^# .*\(not bastion\.yaml\)")  # another tool's YAML, shown for reference
SNIPPETS = [
    pytest.param(block, id=f"{page.name}#{i}")
    for page in PAGES
    for i, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S))
    if not FOREIGN.match(block)
]


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_a_documented_config_loads(
    snippet: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in [v for v in os.environ if v.startswith("BASTION_")]:
        monkeypatch.delenv(var)
    path = tmp_path / "bastion.yaml"
    path.write_text(snippet)
    load_settings(path)  # a ConfigError names the key that the page gets wrong
