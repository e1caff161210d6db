"""The README's "One example per API" runs as written against a real demo server (only the
address and the key are the test server's), every command answering 2xx."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, Server

pytestmark = pytest.mark.e2e


def _examples() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## One example per API", 1)[1]
    [block] = re.findall(r"```bash\n(.*?)```", section, re.S)[:1]
    return str(block)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_the_readme_examples_answer_as_documented(demo_server: Server, tmp_path: Path) -> None:
    script = _examples().replace("localhost:8000", f"127.0.0.1:{demo_server.port}")
    script = script.replace("curl -s ", "curl -sf ")  # an HTTP error fails the command
    runner = tmp_path / "examples.sh"
    runner.write_text("set -euo pipefail\n" + script)
    done = subprocess.run(
        ["bash", str(runner)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "BASTION_KEY": demo_server.admin_key},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first, _ = json.JSONDecoder().raw_decode(done.stdout)  # curl prints no newlines
    assert (first["deployment"], first["version"]) == ("support-intent", 1)
    assert "label" in first["output"] and 0 <= first["confidence"] <= 1
