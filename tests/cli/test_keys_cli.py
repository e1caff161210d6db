"""`bastion keys …` through a real server; `keys create --offline` for the first admin key."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from tests.cli.conftest import admin_actions, make_key, ok, refused
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
runner = CliRunner()


def _secret(out: str) -> str:
    return out.strip().splitlines()[-1]


def _key_id(out: str) -> str:
    return out.split()[1]


def test_create_list_rotate_revoke(cli_server: Server, elsewhere: Path) -> None:
    out = ok(cli_server, "keys", "create", "--name", "svc", "--role", "client", cwd=elsewhere)
    secret, key_id = _secret(out), _key_id(out)
    auth = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(cli_server.url + "/v1/deployments", headers=auth).status_code == 200
    listed = ok(cli_server, "keys", "list", "--tenant", "default", env={"COLUMNS": "300"})
    assert key_id in listed and "active" in listed

    rotated = ok(cli_server, "keys", "rotate", key_id, "--grace", "0s")
    assert f"rotated {key_id} →" in rotated
    new_id = rotated.split("→ ")[1].split(";")[0]
    assert f"revoked {new_id}" in ok(cli_server, "keys", "revoke", new_id)
    actions = [r["action"] for r in admin_actions(cli_server) if r["action"].startswith("key.")]
    assert actions[-3:] == ["key.created", "key.rotated", "key.revoked"]


def test_keys_are_for_admins_and_a_refusal_changes_nothing(cli_server: Server) -> None:
    operator = make_key(cli_server, "keys-op", "operator")
    before = cli_server.get("/v1/admin/keys").json()["data"]
    env: dict[str, str | None] = {"BASTION_KEY": operator}
    said = refused(cli_server, "keys", "create", "--name", "x", "--role", "admin", env=env)
    assert "403" in said and "lacks the role" in said
    assert "403" in refused(cli_server, "keys", "revoke", before[0]["id"], env=env)
    assert cli_server.get("/v1/admin/keys").json()["data"] == before


def test_the_first_admin_key_is_made_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BASTION_URL", "http://127.0.0.1:9")  # no server: not asked
    made = runner.invoke(app, ["keys", "create", "--offline", "--name", "me", "--role", "admin"])
    assert made.exit_code == 0, made.output
    assert made.output.strip().splitlines()[-1].startswith("bst_")
    exported = runner.invoke(app, ["audit", "export", "--offline"])
    (record,) = [orjson.loads(line) for line in exported.output.splitlines()]
    assert record["action"] == "key.created" and record["actor_name"].startswith("cli:")
