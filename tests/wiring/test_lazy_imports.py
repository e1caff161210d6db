"""A server without Redis, JWTs, review webhooks, encryption or the screen's encoder configured
never loads their libraries.

Each costs resident memory in every worker (redis ~9 MiB, PyJWT with cryptography ~8, httpx
with its CLI's dependencies ~4, tokenizers ~6); they load where the setting that needs them
is read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROGRAM = """
import asyncio, sys
from bastion.settings import load_settings
from bastion.app import create_app
from bastion.wiring import build_services, close_services

settings = load_settings(data_dir=sys.argv[1], demo=False)
create_app(settings)

async def main():
    svc = await build_services(settings)
    await close_services(svc)

asyncio.run(main())
OPTIONAL = ("redis", "jwt", "httpx", "cryptography", "tokenizers")
print(" ".join(sorted(m for m in OPTIONAL if m in sys.modules)))
"""


def test_a_default_server_loads_no_optional_client(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1:] in ([], [""])
