"""Two tenants on one real server, each with operator, approver, reviewer and client keys,
and python-flavor models that answer what their input says (tests.evaluation.models)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.server import Server, make_server

ROLES = ("operator", "approver", "reviewer", "client")
SAY = "tests.evaluation.models:say"


@dataclass
class Tenant:
    name: str
    keys: dict[str, str] = field(default_factory=dict)  # role → secret
    ids: dict[str, str] = field(default_factory=dict)  # role → key id

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def start(folder: Path, config: dict[str, Any] | None = None, **env: str) -> Server:
    """A server without the demo models (fast to start), with ``config`` as its YAML."""
    extra = dict(env)
    if config:
        path = folder / "bastion.json"  # YAML is a superset of JSON
        path.write_text(json.dumps(config))
        extra["BASTION_CONFIG"] = str(path)
    return make_server(folder / "data", BASTION_DEMO="false", **extra).start()


def tenant(server: Server, name: str, roles: tuple[str, ...] = ROLES) -> Tenant:
    found = Tenant(name)
    for role in roles:
        body = {"name": f"{name}-{role}", "roles": [role], "tenant": name}
        r = server.post("/v1/admin/keys", json=body)
        assert r.status_code == 201, r.text
        found.keys[role], found.ids[role] = r.json()["key"], r.json()["data"]["id"]
    return found


def register(server: Server, model: str, owner: str | None, fn: str = SAY) -> int:
    """An admin registers a version of ``model`` for ``owner`` (None: shared)."""
    body: dict[str, Any] = {"flavor": "python", "params": {"entry_point": fn}}
    body.update({"shared": True} if owner is None else {"tenant": owner})
    r = server.post(f"/v1/admin/models/{model}/versions", json=body)
    if r.status_code == 422 and "keeps its model's owner" in r.text:
        body.pop("shared", None), body.pop("tenant", None)
        r = server.post(f"/v1/admin/models/{model}/versions", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r) for r in rows)
