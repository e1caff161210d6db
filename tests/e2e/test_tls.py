"""TLS: `bastion serve --ssl-certfile/--ssl-keyfile` with a self-signed certificate."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from tests.certificates import self_signed
from tests.e2e.server import make_server

pytestmark = pytest.mark.e2e


def test_https_with_a_verified_certificate_and_no_plain_http(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = make_server(tmp_path / "data", BASTION_DEMO="false")
    server.scheme = "https"
    server.verify = ssl.create_default_context(cafile=str(cert))
    server.start("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    try:
        with httpx.Client(verify=server.verify, timeout=10) as client:
            ok = client.get(f"{server.url}/v1/deployments", headers=server.auth)
            assert ok.status_code == 200, ok.text
            assert ok.url.scheme == "https"
        with pytest.raises(httpx.ConnectError):  # an unknown certificate is refused
            httpx.get(f"{server.url}/readyz", timeout=10)
        with pytest.raises(httpx.HTTPError):  # plain HTTP gets no answer from a TLS port
            httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=10)
    finally:
        server.stop()
