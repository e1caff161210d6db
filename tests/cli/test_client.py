"""The CLI's admin-API client: where it goes, with which key, and how refusals read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer

from bastion.cli.client import AdminClient, ApiError, Reply, api_error, read_profile
from tests.e2e.server import free_port


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("transfer-encoding") == "chunked":
            body = self._read_chunked()
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers.get("authorization"),
                "body": body,
            }
        )
        if self.path.startswith("/refuse"):
            payload = {"error": {"type": "forbidden", "message": "operators only"}}
            self._send(403, payload)
        else:
            self._send(200, {"ok": True})

    def _read_chunked(self) -> bytes:
        out = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 (http.server's names)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def _no_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_PROFILE", str(tmp_path / "profile.json"))
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BASTION_ADMIN_KEY", raising=False)


def test_options_win_over_profile_and_config(tmp_path: Path) -> None:
    (tmp_path / "profile.json").write_text('{"url": "http://p:1/", "key": "bst_profile"}')
    chosen = AdminClient.resolve("http://o:2", "bst_option")
    assert chosen == AdminClient("http://o:2", "bst_option")
    assert AdminClient.resolve() == AdminClient("http://p:1", "bst_profile")


def test_config_is_the_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_ADMIN_KEY", "bst_admin_from_env")
    monkeypatch.setenv("BASTION_PORT", "8123")
    assert AdminClient.resolve() == AdminClient("http://127.0.0.1:8123", "bst_admin_from_env")


def test_unreadable_profile_exits_2(tmp_path: Path) -> None:
    (tmp_path / "profile.json").write_text("{not json")
    with pytest.raises(typer.Exit) as exited:
        read_profile()
    assert exited.value.exit_code == 2


def test_requests_carry_the_key_and_stream_uploads(server: str, tmp_path: Path) -> None:
    client = AdminClient(server, "bst_k")
    assert client.get("/thing", limit=3, skip=None) == {"ok": True}
    big = tmp_path / "artifact.bin"
    big.write_bytes(b"x" * (3 * (1 << 20) + 7))
    client.upload("/upload", big, model="fraud")
    get, upload = _Handler.seen
    assert get["path"] == "/thing?limit=3" and get["auth"] == "Bearer bst_k"
    assert upload["path"] == "/upload?model=fraud&filename=artifact.bin"
    assert upload["body"] == big.read_bytes()


def test_refusal_is_one_line_and_exit_1(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    client = AdminClient(server, "bst_k")
    with pytest.raises(typer.Exit) as exited:
        client.post("/refuse", {"a": 1})
    assert exited.value.exit_code == 1
    with pytest.raises(ApiError) as raised:
        client.send("GET", "/refuse", raise_errors=True)
    assert (raised.value.status, raised.value.type) == (403, "forbidden")
    assert "lacks the role" in raised.value.message


def test_download_hands_the_body_over_in_chunks(server: str) -> None:
    got: list[bytes] = []
    AdminClient(server, "bst_k").download("/export", got.append, since="2026-01-01")
    assert b"".join(got) == b'{"ok": true}'
    assert _Handler.seen[0]["path"] == "/export?since=2026-01-01"


def test_booleans_travel_as_true_and_false(server: str) -> None:
    AdminClient(server, "bst_k").get("/flags", decrypt=True, offline=False)
    assert _Handler.seen[0]["path"] == "/flags?decrypt=true&offline=false"


def test_unreachable_server_names_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(typer.Exit) as exited:
        AdminClient(url, "bst_k").get("/v1/deployments")
    assert exited.value.exit_code == 1
    assert url in capsys.readouterr().err.replace("\n", "")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"type": "unauthorized", "message": "bad key"}}, "unauthorized"),
        ({"error": "oip message"}, "http_401"),
        ("plain", "http_401"),
    ],
)
def test_error_shapes(body: Any, expected: str) -> None:
    error = api_error(Reply(401, json.dumps(body).encode()))
    assert error.type == expected and "BASTION_KEY" in error.message
