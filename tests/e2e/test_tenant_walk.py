"""Every route of the OpenAPI spec, walked with each role of tenant A against tenant B's
objects: the answer is 404 (existence not disclosed) or 403 where the role itself lacks the
route (the same request on A's own object is 403 too), never 2xx; lists never show B's
objects; and B's objects are exactly as they were afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.server import Server
from tests.e2e.tenants import ROLES, SAY, Tenant, jsonl, register, start, tenant

pytestmark = pytest.mark.e2e

PUBLIC = {"/healthz", "/readyz", "/v2", "/v2/health/live", "/v2/health/ready"}
# ids that name nothing of either tenant (the walk makes no jobs, files, batches, actions or
# feature tables: their own e2e tests check that another tenant's answer 404)
PLACEHOLDERS = {"review_id", "item_id", "alert_id", "job_id", "file_id", "batch_id", "action_id"}
PLACEHOLDERS |= {"table"}
ROW = jsonl([{"input": {"say": "a"}, "expected": "a"}])


def _template(text: str) -> dict[str, Any]:
    return {
        "model": "walk-llm",
        "variables": {"type": "object", "properties": {"say": {"type": "string"}}},
        "messages": [{"role": "user", "content": f"{text} {{{{say}}}}"}],
    }


def _objects(server: Server, who: Tenant, model: str, eval_set: str) -> dict[str, str]:
    """A model (v1 live as a deployment, v2 registered), an eval set, a report, an approval
    and a logged prediction, all of tenant ``who``."""
    register(server, model, who.name)
    register(server, model, who.name)
    r = server.post(f"/v1/admin/models/{model}/promote", json={"version": 1})
    assert r.status_code == 200, r.text
    op = who.auth("operator")
    r = server.post("/v1/admin/eval/sets", json={"name": eval_set, "content": ROW}, headers=op)
    assert r.status_code == 201, r.text
    run = {"model": f"{model}@1", "set": eval_set}
    assert server.post("/v1/admin/eval/runs", json=run, headers=op).status_code == 201
    approve = f"/v1/admin/models/{model}/versions/2/approvals"
    assert server.post(approve, json={}, headers=who.auth("approver")).status_code == 201
    for text in ("one", "two"):  # a prompt of the same name: v1 in production, v2 registered
        body = {"template": _template(text), "tenant": who.name}
        r = server.post(f"/v1/admin/prompts/{model}/versions", json=body)
        assert r.status_code == 201, r.text
    r = server.post(f"/v1/admin/prompts/{model}/promote", json={"version": 1})
    assert r.status_code == 200, r.text
    for _ in range(50):
        r = server.post(
            f"/v1/deployments/{model}/predict",
            json={"input": {"say": "a"}},
            headers=who.auth("client"),
        )
        if r.status_code != 503:
            break
    assert r.status_code == 200, r.text
    return {
        "name": model,
        "set": eval_set,
        "version": "1",
        "alias": "production",
        "key_id": who.ids["client"],
        "request_id": r.headers["x-request-id"],
        "review_id": "rv_missing",
        "item_id": "rv_missing",
        "alert_id": "999999",
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = start(tmp_path_factory.mktemp("walk"))
    try:
        acme, beta = tenant(server, "acme"), tenant(server, "beta")
        mine = _objects(server, acme, "acme-m", "acme-set")
        theirs = _objects(server, beta, "beta-m", "beta-set")
        yield server, acme, beta, mine, theirs
    finally:
        server.stop()


def _body(method: str, path: str, obj: dict[str, str]) -> Any:
    name = obj["name"]
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v1/deployments/{name}/predict"): {"input": {"say": "a"}},
        ("POST", "/v2/models/{name}/infer"): {
            "inputs": [{"name": "say", "shape": [1], "datatype": "BYTES", "data": ["a"]}]
        },
        ("POST", "/v1/chat/completions"): {
            "model": name,
            "messages": [{"role": "user", "content": "hi"}],
        },
        ("POST", "/v1/completions"): {"model": name, "prompt": "hi"},
        ("POST", "/v1/embeddings"): {"model": name, "input": "hi"},
        ("POST", "/v1/admin/models/{name}/versions"): {
            "flavor": "python",
            "params": {"entry_point": SAY},
        },
        ("POST", "/v1/admin/models/{name}/promote"): {"version": 2},
        ("POST", "/v1/admin/models/{name}/rollback"): {"alias": "production"},
        ("PUT", "/v1/admin/models/{name}/aliases/{alias}"): {"version": 2},
        ("POST", "/v1/admin/keys"): {"name": "walk", "roles": ["client"], "tenant": "beta"},
        ("POST", "/v1/admin/keys/{key_id}/rotate"): {"grace_s": 0},
        ("POST", "/v1/review/items/{item_id}/decide"): {"action": "approve"},
        ("POST", "/v1/admin/predictions/{request_id}/override"): {
            "output": "b",
            "reason": "walk",
        },
        ("POST", "/v1/admin/deployments/{name}/canary"): {"version": 2},
        ("POST", "/v1/feedback"): {"request_id": obj["request_id"], "label": "b"},
        ("POST", "/v1/admin/eval/sets"): {"name": obj["set"], "content": ROW},
        ("POST", "/v1/admin/eval/runs"): {"model": f"{name}@1", "set": obj["set"]},
        ("POST", "/v1/admin/prompts/{name}/versions"): {"template": _template("three")},
        ("POST", "/v1/admin/prompts/{name}/promote"): {"version": 2},
        ("POST", "/v1/admin/prompts/{name}/rollback"): {},
        ("PUT", "/v1/admin/prompts/{name}/aliases/{alias}"): {"version": 2},
        ("POST", "/v1/admin/prompts/{name}/evaluations"): {"set": obj["set"]},
        ("POST", "/v1/prompts/{name}/completions"): {"variables": {"say": "a"}},
    }
    bodies[("POST", "/v2/models/{name}/versions/{version}/infer")] = bodies[
        ("POST", "/v2/models/{name}/infer")
    ]
    return bodies.get((method, path), {} if method != "GET" else None)


def _url(path: str, obj: dict[str, str]) -> str:
    if path.startswith("/v1/admin/eval/sets/{name}"):
        path = path.replace("{name}", obj["set"], 1)
    for key, value in obj.items():
        path = path.replace("{" + key + "}", value)
    return path


def _params(method: str, path: str, obj: dict[str, str]) -> dict[str, str]:
    """Query filters naming the other tenant's objects, on the list routes that take them."""
    if method != "GET":
        return {}
    return {
        "/v1/admin/eval/reports": {"model": obj["name"]},
        "/v1/admin/eval/sets": {"name": obj["set"]},
        "/v1/admin/alerts": {"deployment": obj["name"]},
        "/v1/review/items": {"deployment": obj["name"]},
    }.get(path, {})


def _send(server: Server, method: str, path: str, obj: dict[str, str], auth: Any) -> Any:
    return httpx.request(
        method,
        server.url + _url(path, obj),
        json=_body(method, path, obj),
        params=_params(method, path, obj),
        headers=auth,
        timeout=60,
    )


def _state(server: Server, theirs: dict[str, str]) -> dict[str, Any]:
    """Tenant B's objects as an admin sees them."""
    name, eval_set = theirs["name"], theirs["set"]
    paths = [
        f"/v1/admin/models/{name}",
        f"/v1/admin/models/{name}/history",
        f"/v1/admin/models/{name}/versions/1/approvals",
        f"/v1/admin/models/{name}/versions/2/approvals",
        f"/v1/admin/eval/sets?name={eval_set}",
        f"/v1/admin/eval/reports?model={name}",
        f"/v1/admin/eval/sets/{eval_set}/versions/1/approvals",
        "/v1/admin/keys?tenant=beta",
        f"/v1/admin/deployments/{name}/canary",
        f"/v1/admin/deployments/{name}/accuracy",
        f"/v1/admin/prompts/{name}",
        f"/v1/admin/prompts/{name}/history",
    ]
    return {p: (r.status_code, r.text) for p in paths for r in [server.get(p)]}


def test_every_route_hides_another_tenants_objects(world: Any) -> None:
    server, acme, _beta, mine, theirs = world
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    before = _state(server, theirs)
    secrets = {theirs["name"], theirs["set"], theirs["key_id"], theirs["request_id"]}
    walked, failures = 0, []
    for path, operations in spec["paths"].items():
        if path in PUBLIC:
            continue
        for method in (m.upper() for m in operations):
            params = {p.strip("{}") for p in path.split("/") if p.startswith("{")}
            for role in ROLES:
                r = _send(server, method, path, theirs, acme.auth(role))
                walked += 1
                where = f"{method} {path} as acme {role}: {r.status_code} {r.text[:200]}"
                if r.status_code >= 500 or (200 <= r.status_code < 300 and params - PLACEHOLDERS):
                    failures.append(where)
                elif r.status_code < 300:  # a list or an action naming no object: no leaks
                    if any(s in r.text for s in secrets):
                        failures.append("leaks tenant beta's objects: " + where)
                elif r.status_code == 403:  # only where the role itself lacks the route
                    own = _send(server, method, path, mine, acme.auth(role))
                    if own.status_code != 403:
                        failures.append(f"403 on beta's but {own.status_code} on its own: {where}")
                elif r.status_code != 404 and not (
                    # a refused body on a route naming no object of beta's discloses nothing
                    not (params - PLACEHOLDERS) and r.status_code in (400, 409, 422)
                ):
                    failures.append(where)  # e.g. a 409 would say the object exists
    assert walked >= 4 * 60, walked
    assert not failures, "\n".join(failures)
    assert _state(server, theirs) == before
