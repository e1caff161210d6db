"""The serving routes are matched by plain Starlette routes first, and still documented."""

from __future__ import annotations

from pathlib import Path

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
