"""A real `bastion serve` process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import ends_with_this_process

ROOT = Path(__file__).resolve().parents[2]
BASTION = str(Path(sys.executable).with_name("bastion"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    admin_key: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    scheme: str = "http"  # "https" with --ssl-certfile/--ssl-keyfile
    verify: Any = True  # what httpx checks the server's certificate against
    host: str = "127.0.0.1"  # where it listens (another network namespace's address)
    wrapper: list[str] = field(default_factory=list)  # e.g. ["ip", "netns", "exec", NS]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def start(self, *args: str, timeout: float = 180.0) -> Server:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*self.wrapper, BASTION, "serve", "--host", self.host, "--port", str(self.port), *args],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=ends_with_this_process(),  # noqa: PLW1509 (only a system call; see there)
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=1, verify=self.verify)
                if ready.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def cli(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str | None] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `bastion ARGS` as a client of this server (BASTION_URL and BASTION_KEY set to
        its address and admin key); ``env`` adds or (with None) removes variables."""
        full = {**self.env, "BASTION_URL": self.url, "BASTION_KEY": self.admin_key}
        for name, value in (env or {}).items():
            if value is None:
                full.pop(name, None)
            else:
                full[name] = value
        done = subprocess.run(
            [BASTION, *args],
            check=False,
            env=full,
            cwd=cwd or ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"bastion {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, headers=kw.pop("headers", self.auth), timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(self.url + path, headers=kw.pop("headers", self.auth), timeout=30, **kw)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", self.auth)
        return httpx.request(method, self.url + path, headers=headers, **{"timeout": 30, **kw})


def make_server(data_dir: Path, *, database_url: str | None = None, **extra_env: str) -> Server:
    admin_key = "bst_test_admin_" + os.urandom(8).hex()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env.update(
        {
            "BASTION_DATA_DIR": str(data_dir),
            "BASTION_ADMIN_KEY": admin_key,
            "BASTION_LOGGING__FORMAT": "console",
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            # tests probe authorization with many bad keys from 127.0.0.1: no slowdown here,
            # unless a test asks for it (tests/e2e/test_refusals.py)
            "BASTION_SECURITY__REFUSALS__MAX_FAILURES": "1000000",
        }
    )
    if database_url:
        env["BASTION_DATABASE_URL"] = database_url
    env.update(extra_env)
    data_dir.mkdir(parents=True, exist_ok=True)
    return Server(data_dir, admin_key, env)
