"""Screenshots of the console's main pages for docs/images/ (run by hand, not collected):

    python -m tests.browser.screenshots [OUT_DIR]

Starts a real server (demo models, a priced LLM group on the bundled fault upstream, a review
policy), sends some traffic, and photographs each page in Debian's Chromium.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bastion.testing import running_upstream
from tests.browser.conftest import ARGS, ENTRY, Console, console_config
from tests.e2e.server import make_server

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "I was charged twice this month",
    "where is my parcel?",
    "I cannot log in to my account",
    "please cancel my subscription",
    "the app crashes when I open settings",
    "can I change the delivery address?",
]


def seed(console: Console) -> dict[str, str]:
    server = console.server
    client = console.key("web-shop", "client", tenant="acme")
    truth = [
        "billing_question",
        "order_status",
        "account_access",
        "cancel_subscription",
        "technical_issue",
        "shipping_address_change",
    ]
    for i in range(150):
        done = console.predict(client, f"{TEXTS[i % len(TEXTS)]} (#{i})")
        if i % 3 == 0:
            label = truth[i % len(truth)] if i % 9 else "refund_request"
            body = {"request_id": done.headers["x-request-id"], "label": label}
            server.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {client}"})
    chat = None
    for i in range(12):
        chat = console.chat(client, f"summarise ticket {i}")
    assert chat is not None
    headers = {"Authorization": f"Bearer {client}"}
    for _ in range(3):
        server.post("/v1/deployments/support-intent/predict", json={"input": 5}, headers=headers)
    reviewed = console.predict(client, "I was charged twice, please refund", review=True)
    for text in TEXTS[2:5]:
        console.predict(client, text, review=True)
    for _ in range(2):
        server.cli("models", "register", "echo", "--entry-point", ENTRY)
    server.cli("models", "promote", "echo", "1")
    server.cli("models", "promote", "echo", "2")
    server.cli("models", "rollback", "echo")
    return {
        "request": chat.headers["x-request-id"],
        "review": reviewed.json()["review"]["items"][0]["review_id"],
    }


def shoot(page: Any, url: str, path: Path, full: bool = True) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full)
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_upstream() as upstream:
        config = console_config(Path(tmp) / "bastion.yaml", upstream.base_url)
        server = make_server(Path(tmp) / "data", BASTION_CONFIG=str(config)).start()
        try:
            console = Console(server, {})
            ids = seed(console)
            reviewer = console.key("rhea", "reviewer", tenant="acme")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                console.login(page, server.admin_key)
                for name, path in (
                    ("overview", "/"),
                    ("deployment", "/deployments/echo"),
                    ("requests", "/requests"),
                    ("request", f"/requests/{ids['request']}"),
                    ("costs", "/costs?by=deployment"),
                    ("monitoring", "/monitoring/support-intent"),
                    ("keys", "/keys"),
                ):
                    full = name != "requests"  # fifty rows: the first screenful shows it
                    shoot(page, console.url + path, out / f"console-{name}.png", full)
                page.context.clear_cookies()
                console.login(page, reviewer)
                shoot(page, console.url + "/review", out / "console-review.png")
                shoot(
                    page, console.url + f"/review/{ids['review']}", out / "console-review-item.png"
                )
                page.goto(console.url + "/login")
                shoot(page, console.url + "/login", out / "console-login.png")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images")
