"""Identity before the body, bounded parsers and archives, secure headers, private files:
the smaller findings of issue 24, through a real server."""

from __future__ import annotations

import base64
import io
import socket
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server
from tests.e2e.tenants import start

pytestmark = pytest.mark.e2e

MIB = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = start(tmp_path_factory.mktemp("hardening"))
    try:
        yield srv
    finally:
        srv.stop()


def _memory_kib(server: Server, field: str) -> int:
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{server.proc.pid}/status")


def _unauthenticated_upload(server: Server, size: int) -> bytes:
    """Send ``size`` bytes to an upload route without a key; return the response's head."""
    head = (
        f"POST /v1/admin/models/anything/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    chunk = b"x" * MIB
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + chunk)
        answer = sock.recv(4096)  # answered before the body is read
        sent = MIB
        try:
            while sent < size:
                sock.sendall(chunk)
                sent += MIB
        except OSError:
            pass  # the server closed the connection instead of reading on: as it should
    return answer


def test_a_200_mib_body_without_a_key_is_refused_before_it_is_read(server: Server) -> None:
    server.get("/v1/admin/models")  # warm the route
    rss, peak = _memory_kib(server, "VmRSS"), _memory_kib(server, "VmHWM")
    answer = _unauthenticated_upload(server, 200 * MIB)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    grown = _memory_kib(server, "VmHWM") - peak
    assert grown <= 8 * 1024, f"peak memory grew by {grown} KiB (RSS was {rss} KiB)"
    assert _memory_kib(server, "VmRSS") - rss <= 8 * 1024


def test_admin_json_calls_have_a_small_body_limit(server: Server) -> None:
    big = {"name": "x" * (2 * MIB), "roles": ["client"]}
    r = server.post("/v1/admin/keys", json=big)
    assert r.status_code == 413, r.text


def test_a_zip_bomb_is_refused_at_registration(server: Server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", "{}")
        archive.writestr("data.bin", b"\0" * (64 * MIB))
    packed = buffer.getvalue()
    assert len(packed) < MIB
    body = {
        "flavor": "sklearn",
        "artifact_base64": base64.b64encode(packed).decode(),
        "artifact_name": "model.skops",
    }
    r = server.post("/v1/admin/models/bomb/versions", json=body)
    assert r.status_code == 413 and "zip bomb" in r.text, r.text
    assert server.get("/v1/admin/models/bomb").status_code == 404  # nothing was registered


def test_deep_json_and_long_csv_fields_answer_4xx(server: Server) -> None:
    deep = '{"input": ' + "[" * 5000 + "]" * 5000 + ', "expected": 1}'
    r = server.post("/v1/admin/eval/sets", json={"name": "deep", "content": deep})
    assert r.status_code == 422 and "nested deeper" in r.text, r.text
    wide = "input,expected\n" + "x" * 140_000 + ",1\n"
    r = server.post("/v1/admin/eval/sets", json={"name": "wide", "content": wide})
    assert r.status_code == 422 and "131072" in r.text, r.text
    nested_body = "[" * 200_000 + "]" * 200_000  # the request body itself, under 1 MiB
    r = server.post(
        "/v1/admin/keys",
        content=nested_body,
        headers={**server.auth, "content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert server.get("/v1/admin/eval/sets").json()["data"] == []


def test_secure_headers(server: Server) -> None:
    r = server.post("/v1/admin/keys", json={"name": "headers", "roles": ["client"]})
    assert r.status_code == 201
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    key_id = r.json()["data"]["id"]
    r = server.post(f"/v1/admin/keys/{key_id}/rotate", json={"grace_s": 0})
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    for path in ("/healthz", "/openapi.json", "/v1/deployments"):
        assert server.get(path).headers["x-content-type-options"] == "nosniff", path
    for path in ("/docs", "/redoc"):
        r = server.get(path, headers={})
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        policy = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert r.headers["x-frame-options"] == "DENY"
        if path == "/docs":  # Swagger UI's one inline bootstrap script, allowed by its hash
            assert "'sha256-" in policy


def test_the_data_directory_and_its_files_are_private(server: Server) -> None:
    source = base64.b64encode(b"def predict(xs):\n    return [{'output': 1} for _ in xs]\n")
    body = {
        "flavor": "python",
        "artifact_base64": source.decode(),
        "artifact_name": "m.py",
        "params": {"entry_point": "predict"},
    }
    assert server.post("/v1/admin/models/private/versions", json=body).status_code == 201
    data = server.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    harness_log = server.log_path  # written by this test process, not by Bastion
    checked = []
    for path in data.rglob("*"):
        if path == harness_log:
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        checked.append(path.name)
    assert "bastion.db" in checked and any(p.startswith("incoming") is False for p in checked)
    artifacts = [p for p in (data / "artifacts").rglob("*") if p.is_file()]
    assert artifacts and all(stat.S_IMODE(p.stat().st_mode) == 0o400 for p in artifacts)
