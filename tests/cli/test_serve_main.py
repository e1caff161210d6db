"""``bastion serve`` hands over to ``bastion.cli.serve_main``: the same process serves,
without Typer or Rich, with the settings the command put in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.cli import serve_main

SERVE = """
import sys
import bastion.cli.server as server

def run(config, drain_delay_s):
    from bastion.cli.workers import WorkerConfig
    kind = "workers" if isinstance(config, WorkerConfig) else "one"
    print(kind, config.port, config.workers, config.ssl_certfile, config.app, drain_delay_s)
    print(*sorted({m.split(".")[0] for m in sys.modules} & {"typer", "rich", "pygments"}))

server.run = run
from bastion.cli.serve_main import main
main()
"""


def _serve(tmp_path: Path, **env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    environment.update({"BASTION_DATA_DIR": str(tmp_path), **env})
    done = subprocess.run(
        [sys.executable, "-P", "-c", SERVE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_serving_process_takes_its_settings_from_the_environment_and_no_typer(
    tmp_path: Path,
) -> None:
    one = _serve(tmp_path, BASTION_PORT="8123", BASTION_SERVER__DRAIN_DELAY_S="2.5")
    assert one == ["one 8123 1 None bastion.app:app_from_environment 2.5", ""]
    cert = tmp_path / "c.pem"
    cert.write_text("not read here")
    several = _serve(tmp_path, BASTION_WORKERS="3", BASTION_SERVER__SSL_CERTFILE=str(cert))
    assert several[0].split()[:4] == ["workers", "8000", "3", str(cert)]
    assert several[1] == ""  # neither Typer nor Rich nor Pygments in the serving process


def test_hand_over_replaces_the_process_after_flushing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, list[str], str]] = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append((path, argv, capsys.readouterr().out))
        raise SystemExit(0)  # execv does not return

    monkeypatch.setattr(os, "execv", execv)
    print("banner", end="")  # buffered until hand_over flushes it
    with pytest.raises(SystemExit):
        serve_main.hand_over()
    assert calls == [
        (sys.executable, [sys.executable, "-P", "-m", "bastion.cli.serve_main"], "banner")
    ]
