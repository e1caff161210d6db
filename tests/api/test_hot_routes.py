"""The serving routes are matched by plain Starlette routes first, and still documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match, Route

from bastion.app import create_app
from bastion.settings import load_settings

HOT = {
    "/v1/deployments/{name}/predict",
    "/v2/models/{name}/infer",
    "/v2/models/{name}/versions/{version}/infer",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/prompts/{name}/completions",
}


def test_serving_routes_match_before_fastapi_and_stay_in_the_openapi(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path))
    first = [r for r in app.router.routes[: len(HOT)] if isinstance(r, Route)]
    assert {r.path for r in first} == HOT
    assert not any(isinstance(r, APIRoute) for r in first)
    scope = {"type": "http", "method": "POST", "path": "/v2/models/m/versions/3/infer"}
    matched = [r for r in app.router.routes if r.matches(scope)[0] == Match.FULL]
    assert matched[0] in first and matched[0].matches(scope)[1]["path_params"] == {
        "name": "m",
        "version": "3",
    }
    documented = set(app.openapi()["paths"])
    assert documented >= HOT


def test_serving_posts_keep_the_middleware_and_error_handlers(tmp_path: Path) -> None:
    """A POST to a serving route skips FastAPI's own layers (api/hot_stack.py), yet still
    gets its request id, its security headers, the gatekeeper's refusal and the JSON
    errors; other methods and paths go through the full stack as before."""
    from fastapi.testclient import TestClient

    from bastion.api.hot_stack import HotPathFirst

    app = create_app(load_settings(data_dir=tmp_path, demo=False))
    with TestClient(app) as client:
        assert isinstance(app.middleware_stack, HotPathFirst)
        refused = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorized"
        assert refused.headers["x-request-id"] == refused.json()["error"]["request_id"]
        assert refused.headers["x-content-type-options"] == "nosniff"
        for other in (
            client.get("/v1/chat/completions"),  # another method: the full stack
            client.post("/v1/deployments/nope/predict/extra", json={}),  # another path
        ):
            assert other.status_code == 401  # the same gatekeeper there
            assert other.headers["x-request-id"] == other.json()["error"]["request_id"]
        bad = client.post(
            "/v1/chat/completions",
            content=b"{not json",
            headers={"authorization": "Bearer bst_wrong", "content-type": "application/json"},
        )
        assert bad.status_code == 401 and bad.json()["error"]["type"] == "unauthorized"


def test_a_hot_endpoint_is_called_directly_and_its_errors_reach_the_handlers() -> None:
    """``hot_stack`` calls the matched route's endpoint itself (no ``Route.handle``): the
    endpoint gets its path parameters, an error it raises is answered by the app's own
    exception handler, and another method or path still goes to the full stack."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    from bastion.api.hot_stack import hot_stack

    class Refused(Exception):
        pass

    async def endpoint(request: Request) -> Response:
        if request.path_params["name"] == "bad":
            raise Refused("no")
        return JSONResponse(
            {"name": request.path_params["name"], "body": (await request.body()).decode()}
        )

    async def refused(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc), "path": request.url.path}, status_code=418)

    full = FastAPI()
    full.add_exception_handler(Refused, refused)

    @full.get("/m/{name}")
    async def other(name: str) -> dict[str, str]:
        return {"full": name}

    app = hot_stack(full, full, [Route("/m/{name}", endpoint, methods=["POST"])])
    with TestClient(app) as client:
        assert client.post("/m/x", content=b"hi").json() == {"name": "x", "body": "hi"}
        answer = client.post("/m/bad")
        assert answer.status_code == 418 and answer.json() == {"error": "no", "path": "/m/bad"}
        assert client.get("/m/y").json() == {"full": "y"}


def test_a_hot_route_must_have_an_async_endpoint() -> None:
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response

    from bastion.api.hot_stack import hot_stack

    def blocking(request: Request) -> Response:
        return Response()

    full = FastAPI()
    with pytest.raises(TypeError, match="/m: the endpoint must be an async function"):
        hot_stack(full, full, [Route("/m", blocking, methods=["POST"])])
