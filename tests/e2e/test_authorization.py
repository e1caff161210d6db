"""Authorization on every route: every role × every route, grants, and cross-tenant attempts.

The table names, for each route, the roles that may use it; every other role must get 403,
and a request without a valid key 401 — before the server reads the body. Routes that are
not in the table (added by other concerns) still get the universal checks: without a key
no route answers 2xx or 5xx, and a client key never gets into ``/v1/admin``.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from bastion.demo.tabular import sample_inputs
from bastion.security import ROLES
from tests.e2e.llm_env import LlmEnv
from tests.e2e.server import Server
from tests.support import error_of

pytestmark = pytest.mark.e2e

ANY = frozenset(ROLES)
MODEL_USERS = frozenset({"admin", "operator", "client"})
OPERATORS = frozenset({"admin", "operator"})
ADMINS = frozenset({"admin"})
EVAL_READERS = frozenset({"admin", "operator", "approver"})
APPROVERS = frozenset({"approver"})  # the role itself: admin alone may not approve
PUBLIC = {"/healthz", "/readyz", "/v2", "/v2/health/live", "/v2/health/ready"}

ROW = sample_inputs(1)[0]
PARAMS = {
    "name": "breast-cancer",
    "version": "1",
    "alias": "staging",
    "key_id": "key_0000000000000000",
    "review_id": "rv_missing",
    "item_id": "rv_missing",
    "request_id": "req_missing",
    "alert_id": "999999",
    "action_id": "act_missing",
    "job_id": "job_missing",
    "file_id": "file-missing",
    "batch_id": "batch_missing",
    "table": "no_such_table",
    "doc_id": "no_such_document",
}
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/deployments/{name}/predict"): {"input": ROW},
    ("POST", "/v2/models/{name}/infer"): {
        "inputs": [
            {"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in ROW.items()
        ]
    },
    ("POST", "/v1/embeddings"): {"model": "minilm", "input": "hello"},
    ("POST", "/v1/admin/models/{name}/promote"): {"version": 999},
    ("POST", "/v1/admin/models/{name}/rollback"): {"alias": "no-such-alias"},
    ("PUT", "/v1/admin/models/{name}/aliases/{alias}"): {"version": 999},
    ("POST", "/v1/admin/models/{name}/versions"): {"flavor": "no-such-flavor"},
    ("POST", "/v1/admin/keys"): {"name": "made-by-test", "roles": ["client"]},
    ("POST", "/v1/admin/keys/{key_id}/rotate"): {"grace_s": 0},
    ("POST", "/v1/admin/models/{name}/versions/{version}/approvals"): {"comment": "authz"},
}
BODIES[("POST", "/v1/admin/models/{name}/rollback/drill")] = {"alias": "no-such-alias"}
BODIES[("POST", "/v1/admin/operations/records")] = {"kind": "backup", "passed": "not a bool"}
BODIES[("POST", "/v2/models/{name}/versions/{version}/infer")] = BODIES[
    ("POST", "/v2/models/{name}/infer")
]

TABLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/deployments"): ANY,
    ("GET", "/v1/deployments/{name}"): MODEL_USERS,
    ("POST", "/v1/deployments/{name}/predict"): MODEL_USERS,
    ("GET", "/v2/models/{name}"): MODEL_USERS,
    ("GET", "/v2/models/{name}/versions/{version}"): MODEL_USERS,
    ("GET", "/v2/models/{name}/ready"): MODEL_USERS,
    ("GET", "/v2/models/{name}/versions/{version}/ready"): MODEL_USERS,
    ("POST", "/v2/models/{name}/infer"): MODEL_USERS,
    ("POST", "/v2/models/{name}/versions/{version}/infer"): MODEL_USERS,
    ("POST", "/v1/embeddings"): MODEL_USERS,
    ("GET", "/v1/models"): ANY,
    ("GET", "/v1/admin/models"): OPERATORS,
    ("GET", "/v1/admin/models/{name}"): OPERATORS,
    ("GET", "/v1/admin/models/{name}/versions/{version}"): OPERATORS,
    ("POST", "/v1/admin/models/{name}/versions"): ADMINS,
    ("POST", "/v1/admin/models/{name}/promote"): OPERATORS,
    ("POST", "/v1/admin/models/{name}/rollback"): OPERATORS,
    ("PUT", "/v1/admin/models/{name}/aliases/{alias}"): OPERATORS,
    ("GET", "/v1/admin/models/{name}/history"): OPERATORS,
    ("POST", "/v1/admin/models/{name}/verify"): OPERATORS,
    ("GET", "/v1/admin/upstreams"): OPERATORS,
    ("GET", "/v1/admin/keys"): ADMINS,
    ("POST", "/v1/admin/keys"): ADMINS,
    ("GET", "/v1/admin/keys/{key_id}"): ADMINS,
    ("DELETE", "/v1/admin/keys/{key_id}"): ADMINS,
    ("POST", "/v1/admin/keys/{key_id}/rotate"): ADMINS,
    ("GET", "/v1/admin/eval/sets"): EVAL_READERS,
    ("POST", "/v1/admin/eval/sets"): OPERATORS,
    ("POST", "/v1/admin/eval/runs"): OPERATORS,
    ("GET", "/v1/admin/eval/reports"): EVAL_READERS,
    ("POST", "/v1/admin/models/{name}/versions/{version}/approvals"): APPROVERS,
    ("GET", "/v1/admin/models/{name}/versions/{version}/approvals"): EVAL_READERS,
    ("GET", "/v1/costs"): ANY,
    ("GET", "/v1/costs/budgets"): ANY,
    ("GET", "/v1/admin/capacity"): OPERATORS,
    ("GET", "/v1/admin/readiness/facts"): ADMINS,
    ("POST", "/v1/admin/models/{name}/rollback/drill"): OPERATORS,
    ("POST", "/v1/admin/alerts/test"): OPERATORS,
    ("GET", "/v1/admin/operations/records"): OPERATORS,
    ("POST", "/v1/admin/operations/records"): OPERATORS,
}


def create_key(server: Server, **body: Any) -> tuple[str, str]:
    r = server.post("/v1/admin/keys", json={"name": "authz", **body})
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["data"]["id"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def role_keys(demo_server: Server) -> dict[str, str]:
    """One key per role in tenant ``default``, plus no key and a key nobody issued.

    The demo models are shared by every tenant; the default tenant's keys manage them
    (``security.global_operators``). Another tenant's roles meet 403 on shared objects and
    404 on foreign ones: tests/e2e/test_tenant_walk.py walks every route for that."""
    keys = {role: create_key(demo_server, roles=[role], tenant="default")[0] for role in ROLES}
    keys["bogus"] = "bst_" + "x" * 43
    return keys


@pytest.fixture(scope="module")
def routes(demo_server: Server) -> list[tuple[str, str]]:
    spec = demo_server.get("/openapi.json").json()
    return sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops)


def call(server: Server, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = BODIES.get((method, path), {})
    url = server.url + path.format(**PARAMS)
    return httpx.request(method, url, json=body, headers=headers, timeout=30)


def test_every_listed_route_exists(routes: list[tuple[str, str]]) -> None:
    missing = sorted(set(TABLE) - set(routes))
    assert not missing, f"the table names routes the server does not have: {missing}"


@pytest.mark.parametrize(("method", "path"), sorted(TABLE))
def test_role_by_route(
    demo_server: Server, role_keys: dict[str, str], method: str, path: str
) -> None:
    allowed = TABLE[(method, path)]
    outcomes = {}
    for role in (*ROLES, "bogus", "none"):
        headers = {} if role == "none" else bearer(role_keys[role])
        r = call(demo_server, method, path, headers)
        assert r.status_code < 500, f"{role} {method} {path}: {r.status_code} {r.text}"
        outcomes[role] = r.status_code
        if role in ("bogus", "none"):
            assert r.status_code == 401, f"{role} {method} {path}: {r.text}"
            assert error_of(r)[0] == "unauthorized"
        elif role in allowed:
            assert r.status_code not in (401, 403), f"{role} {method} {path}: {r.text}"
        else:
            assert r.status_code == 403, f"{role} {method} {path}: {r.text}"
            assert error_of(r)[0] == "forbidden"
    assert outcomes  # one request per role


def test_universal_rules_on_every_route(
    demo_server: Server, role_keys: dict[str, str], routes: list[tuple[str, str]]
) -> None:
    """Routes outside the table included: no key never gets 2xx/5xx; clients stay out of
    the admin API."""
    problems: list[str] = []
    for method, path in routes:
        if path in PUBLIC or path.startswith(("/docs", "/redoc", "/openapi")):
            continue
        r = call(demo_server, method, path, {})
        assert 400 <= r.status_code < 500, f"no key {method} {path}: {r.status_code}"
        if path.startswith("/v1/admin/"):
            problems.append(f"no key {method} {path}: {r.status_code}")
            if r.status_code == 401:
                problems.pop()
            c = call(demo_server, method, path, bearer(role_keys["client"]))
            if c.status_code != 403:
                problems.append(f"client {method} {path}: {c.status_code} {c.text}")
    assert not problems, "\n".join(problems)


def test_grants_and_listings(demo_server: Server) -> None:
    secret, _ = create_key(demo_server, roles=["client"], deployments=["breast-cancer"])
    auth = bearer(secret)
    ok = demo_server.post(
        "/v1/deployments/breast-cancer/predict", json={"input": ROW}, headers=auth
    )
    assert ok.status_code == 200, ok.text
    for path, body in (
        ("/v1/deployments/support-intent/predict", {"input": "refund"}),
        (
            "/v2/models/support-intent/infer",
            {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["refund"]}]},
        ),
    ):
        r = demo_server.post(path, json=body, headers=auth)
        assert r.status_code == 403 and "support-intent" in error_of(r)[1]
    assert demo_server.get("/v2/models/support-intent", headers=auth).status_code == 403
    listed = demo_server.get("/v1/deployments", headers=auth).json()["data"]
    assert [d["name"] for d in listed] == ["breast-cancer"]
    models = demo_server.get("/v1/models", headers=auth).json()["data"]
    assert [m["id"] for m in models] == ["breast-cancer"]


def test_cross_tenant_costs_are_invisible(demo_server: Server) -> None:
    acme_op, _ = create_key(demo_server, roles=["operator"], tenant="acme-x")
    globex_op, _ = create_key(demo_server, roles=["operator"], tenant="globex-x")
    acme_client, acme_client_id = create_key(demo_server, roles=["client"], tenant="acme-x")
    r = demo_server.post(
        "/v1/deployments/breast-cancer/predict", json={"input": ROW}, headers=bearer(acme_client)
    )
    assert r.status_code == 200
    denied = demo_server.get("/v1/costs?tenant=acme-x", headers=bearer(globex_op))
    assert denied.status_code == 403 and denied.json()["error"]["type"] == "forbidden"
    for key in (globex_op, acme_client):  # own tenant only / own key only
        rows = demo_server.get("/v1/costs?by=tenant,key", headers=bearer(key)).json()["data"]
        assert all(row["tenant"] == ("globex-x" if key == globex_op else "acme-x") for row in rows)
    spy = demo_server.get(f"/v1/costs?key={acme_client_id}", headers=bearer(globex_op))
    assert spy.status_code == 200 and spy.json()["data"] == []
    other = demo_server.get("/v1/costs?key=key_somebody_else", headers=bearer(acme_client))
    assert other.status_code == 404
    assert demo_server.get("/v1/costs?tenant=acme-x", headers=bearer(acme_op)).status_code == 200


def test_llm_routes_by_role_and_grant(llm: LlmEnv) -> None:
    server = llm.server
    body = {"model": "ok", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    for role, granted in itertools.product(ROLES, (None, ["backup"])):
        extra = {} if granted is None else {"deployments": granted}
        secret, _ = create_key(server, roles=[role], tenant="acme", **extra)
        r = server.post("/v1/chat/completions", json=body, headers=bearer(secret))
        may = role == "admin" or (role in MODEL_USERS and granted is None)
        assert (r.status_code == 200) == may, f"{role} {granted}: {r.status_code} {r.text}"
        if not may:
            assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden"
    unknown = server.post("/v1/chat/completions", json={**body, "model": "nope"}, headers={})
    assert unknown.status_code == 401  # no key learns which model groups exist


def test_cache_entries_never_cross_tenants(llm: LlmEnv) -> None:
    server = llm.server
    a, _ = create_key(server, roles=["client"], tenant="tenant-a")
    b, _ = create_key(server, roles=["client"], tenant="tenant-b")
    body = {
        "model": "cached",
        "temperature": 0,
        "messages": [{"role": "user", "content": "what is the capital of authorization"}],
    }
    first = server.post("/v1/chat/completions", json=body, headers=bearer(a))
    again = server.post("/v1/chat/completions", json=body, headers=bearer(a))
    other = server.post("/v1/chat/completions", json=body, headers=bearer(b))
    assert first.status_code == again.status_code == other.status_code == 200
    assert again.headers.get("x-bastion-cache") == "hit"
    assert "x-bastion-cache" not in other.headers  # tenant b computed its own answer
