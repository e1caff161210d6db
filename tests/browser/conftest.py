"""Browser tests: Debian's Chromium driven by Playwright against a real `bastion serve`.

Chromium comes from the Debian package (`make dev` installs it); Playwright never downloads
a browser. Without either, these tests skip (or fail with BASTION_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bastion.testing import running_upstream
from tests.e2e.server import Server, make_server
from tests.support import service_unavailable

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ENTRY = "tests.browser.models:echo"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API runs an event loop in this thread while
    it lives, so it must be gone before the asyncio tests of later modules start."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("the playwright package is not installed (pip install playwright)")
    path = shutil.which("chromium")
    if path is None:
        service_unavailable(
            "Chromium is not installed (apt-get install chromium; `make dev` does it)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS)
        yield browser
        browser.close()


def console_config(path: Path, upstream_url: str) -> Path:
    """The demo models, a review policy on the classifier, and one priced LLM group "chat"
    (answered by the fault upstream Bastion ships for tests, on loopback)."""
    upstream = {
        "name": "chat-ok",
        "base_url": upstream_url,
        "model": "m-ok",
        "input_price_per_1m": 1000.0,
        "output_price_per_1m": 2000.0,
    }
    config = {
        "llm": {"groups": [{"name": "chat", "upstreams": [upstream]}]},
        "review": {
            "policies": [
                {"deployment": "support-intent", "client_may_request": True, "fallback": "model"}
            ]
        },
    }
    path.write_text(json.dumps(config))
    return path


@dataclass
class Console:
    """The server, its keys by name, and helpers that act as an API client would."""

    server: Server
    keys: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url + "/console"

    def key(self, name: str, *roles: str, tenant: str = "default") -> str:
        if name not in self.keys:
            body = {"name": name, "roles": list(roles), "tenant": tenant}
            made = self.server.post("/v1/admin/keys", json=body)
            assert made.status_code == 201, made.text
            self.keys[name] = made.json()["key"]
        return self.keys[name]

    def predict(self, key: str, text: str, *, review: bool = False) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        if review:
            headers["x-bastion-review"] = "request"
        done = self.server.post(
            "/v1/deployments/support-intent/predict", json={"input": text}, headers=headers
        )
        assert done.status_code == 200, done.text
        return done

    def chat(self, key: str, text: str) -> httpx.Response:
        body = {"model": "chat", "messages": [{"role": "user", "content": text}]}
        headers = {"Authorization": f"Bearer {key}"}
        done = self.server.post("/v1/chat/completions", json=body, headers=headers)
        assert done.status_code == 200, done.text
        return done

    def login(self, page: Any, key: str) -> None:
        page.goto(self.url + "/login")
        page.fill("#credential", key)
        page.click("button[type=submit]")
        page.wait_for_url(self.url + "/")

    def wait_deployment(self, name: str, version: int) -> None:
        deadline = time.monotonic() + 15
        while self.server.get(f"/v1/deployments/{name}").json().get("version") != version:
            assert time.monotonic() < deadline, self.server.log()
            time.sleep(0.05)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Console]:
    root = tmp_path_factory.mktemp("console")
    with running_upstream() as upstream:
        config = console_config(root / "bastion.yaml", upstream.base_url)
        server = make_server(root / "data", BASTION_CONFIG=str(config))
        server.start()
        try:
            yield Console(server, {})
        finally:
            server.stop()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    yield page
    context.close()
