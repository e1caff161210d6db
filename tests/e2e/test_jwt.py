"""JWTs from an identity provider through a real server: predict with a client token, refused
on the admin API, 401 when expired; an unreachable JWKS URL stops the start."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import BASTION, ROOT, Server, free_port, make_server
from tests.security.idp import AUDIENCE, ISSUER, Idp

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp.create()


def _config(path: Path, **jwt: object) -> Path:
    base = {"issuer": ISSUER, "audience": AUDIENCE, **jwt}
    path.write_text(yaml.safe_dump({"security": {"jwt": base}}))
    return path


@pytest.fixture(scope="module")
def jwt_server(idp: Idp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("jwt")
    config = _config(
        root / "bastion.yaml",
        jwks_file=str(idp.write_jwks(root / "jwks.json")),
        role_map={"ml-client": "client", "ml-ops": "operator"},
    )
    server = make_server(root / "data", BASTION_CONFIG=str(config))
    server.start()
    yield server
    server.stop()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_client_token_predicts_but_never_reaches_the_admin_api(
    jwt_server: Server, idp: Idp
) -> None:
    token = idp.token(roles=["ml-client", "offline_access"], groups=["g" * 30] * 20)
    assert len(token) > 256  # longer than any API key: allowed because JWT is configured
    row = sample_inputs(1)[0]
    ok = jwt_server.post(
        "/v1/deployments/breast-cancer/predict", json={"input": row}, headers=_bearer(token)
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["output"]["label"] in ("malignant", "benign")

    admin = jwt_server.get("/v1/admin/models", headers=_bearer(token))
    assert admin.status_code == 403, admin.text
    assert admin.json()["error"]["type"] == "forbidden"
    assert "alice@example.test" in admin.json()["error"]["message"]


def test_an_operator_token_reads_the_admin_api(jwt_server: Server, idp: Idp) -> None:
    token = idp.token("ec-1", roles="ml-ops", sub="ops-bot")
    r = jwt_server.get("/v1/admin/models", headers=_bearer(token))
    assert r.status_code == 200, r.text
    assert "breast-cancer" in {m["name"] for m in r.json()["data"]}


def test_bad_tokens_are_401_and_api_keys_still_work(jwt_server: Server, idp: Idp) -> None:
    row = sample_inputs(1)[0]
    path = "/v1/deployments/breast-cancer/predict"
    cases = {
        idp.token(roles=["ml-client"], ttl=-300): "expired",
        idp.token(roles=["ml-client"], aud="someone-else"): "not meant for this server",
        idp.token(roles=["admin"]): "grants no Bastion role",  # 'admin' is not in role_map
    }
    for token, reason in cases.items():
        r = jwt_server.post(path, json={"input": row}, headers=_bearer(token))
        assert r.status_code == 401, r.text
        error = r.json()["error"]
        assert error["type"] == "unauthorized" and reason in error["message"]
        assert token not in r.text
    assert jwt_server.post(path, json={"input": row}).status_code == 200  # the admin API key


def test_an_unreachable_jwks_url_stops_the_start(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/jwks"
    config = _config(tmp_path / "bastion.yaml", jwks_url=dead, jwks_timeout_s=2)
    server = make_server(tmp_path / "data", BASTION_CONFIG=str(config))
    done = subprocess.run(
        [BASTION, "serve", "--port", str(free_port())],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert f"cannot fetch the JWKS from {dead}" in done.stdout + done.stderr
