"""A real S3-compatible HTTP server for tests: moto's server (``moto[server]``, the dev extra)
run as its own process on 127.0.0.1. Skips, saying why, when it is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port
from tests.support import ends_with_this_process

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bastion-test",
    "AWS_SECRET_ACCESS_KEY": "bastion-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _moto_server() -> str:
    found = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("moto[server] is not installed (pip install 'bastion[dev]'): no S3 server")
    return found


@contextmanager
def running_s3(log_dir: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a fresh moto server; stopped afterwards."""
    binary = _moto_server()
    port = free_port()
    log = (log_dir / "moto.log").open("wb")
    env = {**os.environ, **CREDENTIALS}
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=ends_with_this_process(),  # noqa: PLW1509 (only a system call; see there)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited: {(log_dir / 'moto.log').read_text()}")
            try:
                httpx.get(url + "/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def make_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)
    client.close()
