"""Registry changes reach a running server without a restart; tampered artifacts never load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server, make_server
from tests.support import error_of

pytestmark = pytest.mark.e2e

PREDICT = "/v1/deployments/breast-cancer/predict"


def _served_version(server: Server) -> int:
    r = server.post(PREDICT, json={"input": sample_inputs(1)[0]})
    assert r.status_code == 200, r.text
    return int(r.headers["x-bastion-model-version"])


def _wait_for_version(server: Server, version: int, within: float = 1.0) -> float:
    """Seconds until the server answers with ``version``; fails past ``within``."""
    start = time.monotonic()
    while True:
        if _served_version(server) == version:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            pytest.fail(f"server still not on v{version} after {within}s")
        time.sleep(0.02)


def _new_version(server: Server, tmp_path: Path, c: float) -> int:
    """Register another breast-cancer version (retrained with a different C) via the CLI."""
    from bastion.demo.tabular import train_breast_cancer

    trained = train_breast_cancer(c=c)
    model = tmp_path / f"bc-{c}.onnx"
    model.write_bytes(trained.artifact)
    sig = tmp_path / "sig.json"
    import json

    sig.write_text(json.dumps(trained.signature))
    out = server.cli(
        "models",
        "register",
        "breast-cancer",
        str(model),
        "--signature",
        str(sig),
        "--metric",
        f"accuracy={trained.metrics['accuracy']}",
        "--description",
        f"C={c}",
    )
    return int(out.stdout.split("version ")[1].split()[0])


def run_promote_rollback(server: Server, tmp_path: Path) -> None:
    v1 = _served_version(server)
    v2 = _new_version(server, tmp_path, c=0.05)
    assert _served_version(server) == v1  # registering alone changes nothing
    server.cli("models", "promote", "breast-cancer", str(v2))
    _wait_for_version(server, v2)
    server.cli("models", "rollback", "breast-cancer")
    _wait_for_version(server, v1)
    hist = server.cli("models", "history", "breast-cancer").stdout
    assert "rollback" in hist and "promote" in hist
    # the admin API does the same, and the answering process switches before replying
    r = server.post("/v1/admin/models/breast-cancer/promote", json={"version": v2, "reason": "api"})
    assert r.status_code == 200, r.text
    assert _served_version(server) == v2
    r = server.post("/v1/admin/models/breast-cancer/rollback", json={})
    assert r.status_code == 200 and r.json()["version"] == v1
    assert _served_version(server) == v1


def test_promote_and_rollback_without_restart(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data").start()
    try:
        run_promote_rollback(server, tmp_path)
    finally:
        server.stop()


def test_tampered_artifact_refuses_to_load(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data").start()
    try:
        v1 = _served_version(server)
        v2 = _new_version(server, tmp_path, c=0.2)
        shown = server.get(f"/v1/admin/models/breast-cancer/versions/{v2}").json()
        sha = shown["artifact_sha256"]
        stored = next((tmp_path / "data" / "artifacts").rglob(sha))
        stored.chmod(0o644)
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF
        stored.write_bytes(bytes(data))

        verify = server.cli("models", "verify", "breast-cancer", check=False)
        assert verify.returncode == 1
        assert "TAMPERED" in verify.stdout

        refused = server.post("/v1/admin/models/breast-cancer/promote", json={"version": v2})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["type"] == "artifact_tampered"
        assert f"version {v2} of model 'breast-cancer'" in refused.json()["error"]["message"]
        aliases = server.get("/v1/admin/models/breast-cancer").json()["aliases"]
        assert aliases["production"] == v1  # the refusal moved nothing
        assert _served_version(server) == v1

        pinned = server.post(
            f"/v2/models/breast-cancer/versions/{v2}/infer",
            json={
                "inputs": [
                    {
                        "name": "x",
                        "shape": [1, 30],
                        "datatype": "FP32",
                        "data": list(sample_inputs(1)[0].values()),
                    }
                ]
            },
        )
        assert pinned.status_code == 500
        assert error_of(pinned)[0] == "artifact_integrity_error"
    finally:
        server.stop()
