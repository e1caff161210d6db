"""TLS: `bastion serve --ssl-certfile/--ssl-keyfile` with a self-signed certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.server import make_server

pytestmark = pytest.mark.e2e


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bastion-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


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
