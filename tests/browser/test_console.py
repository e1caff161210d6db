"""The console in a real browser: log in, promote and roll back, work a review item, see a
request's cost, and a tenant's viewer kept out of another tenant's pages."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ENTRY, Console

pytestmark = pytest.mark.e2e


def test_login_sets_a_strict_session_cookie_and_logout_ends_it(console: Console, page: Any) -> None:
    first = page.goto(console.url + "/")
    assert page.url.startswith(console.url + "/login")  # no session: the login form
    headers = first.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"

    page.fill("#credential", "bst_not_a_key")
    page.click("button[type=submit]")
    assert "invalid, expired or revoked API key" in page.text_content(".alert")

    console.login(page, console.server.admin_key)
    assert page.text_content("h1") == "Overview"
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "bastion_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert console.server.admin_key not in cookie["value"]

    # a form without its CSRF token changes nothing
    jar = {"bastion_console": cookie["value"]}
    forged = httpx.post(
        console.url + "/keys/create",
        data={"name": "forged", "role_admin": "on"},
        cookies=jar,
        follow_redirects=False,
    )
    assert forged.status_code == 403
    names = [k["name"] for k in console.server.get("/v1/admin/keys").json()["data"]]
    assert "forged" not in names

    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/console/login.*"))
    after = httpx.get(console.url + "/", cookies=jar, follow_redirects=False)
    assert after.status_code == 303 and "/console/login" in after.headers["location"]


def test_promote_and_roll_back_through_the_gates(console: Console, page: Any) -> None:
    for _ in range(2):
        console.server.cli("models", "register", "echo", "--entry-point", ENTRY)
    console.server.cli("models", "promote", "echo", "1")
    console.wait_deployment("echo", 1)
    operator = console.key("olga", "operator")
    console.login(page, operator)

    page.goto(console.url + "/deployments")
    page.click("a[data-model=echo]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.select_option("select[data-field=version]", "2")
    page.fill("form[action$=promote] input[name=reason]", "v2 is better")
    page.click("button[data-action=promote]")
    assert "production → v2 (was v1)" in page.text_content(".note")
    console.wait_deployment("echo", 2)

    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("form[action$=rollback] input[name=reason]", "v2 misbehaves")
    page.click("button[data-action=rollback]")
    assert "rolled back to v1" in page.text_content(".note")
    console.wait_deployment("echo", 1)
    assert page.text_content("[data-alias=production]").strip() == "production → v1"

    # the same path as the admin API: both changes are in the audit log, by the operator
    audit = console.server.get("/v1/admin/audit", params={"kind": "admin"}).json()["data"]
    actions = [(r["action"], r["actor_name"]) for r in audit if r["target"] == "echo"]
    assert ("model.promoted", "olga") in actions and ("model.rolled_back", "olga") in actions


def test_a_review_item_is_worked_end_to_end(console: Console, page: Any) -> None:
    client = console.key("acme-app", "client", tenant="acme")
    asked = console.predict(client, "I was charged twice this month", review=True)
    review_id = asked.json()["review"]["items"][0]["review_id"]
    console.login(page, console.key("rhea", "reviewer", tenant="acme"))

    page.goto(console.url + "/review")
    assert page.is_visible(f"a[data-item='{review_id}']")
    page.keyboard.press("n")  # claim the next item
    page.wait_for_url(re.compile(rf".*/console/review/{review_id}$"))
    assert "I was charged twice" in page.text_content("main")
    assert "rhea" in page.text_content("dl.facts")

    page.select_option("select[name=label]", "billing_question")
    page.click("button[data-shortcut=correct]")  # no reason: refused, and nothing changed
    assert "say why you correct" in page.text_content("[data-refused]")
    assert page.text_content("[data-status]").strip() == "pending"
    page.select_option("select[name=label]", "billing_question")
    page.fill("input[name=reason]", "a double charge is a billing question")
    page.click("button[data-shortcut=correct]")
    assert page.text_content("[data-status]").strip() == "corrected"
    final = json.loads(page.text_content("[data-final]"))
    assert final["label"] == "billing_question" and final["probability"] == 1.0
    assert final["probabilities"]["billing_question"] == 1.0
    assert sum(final["probabilities"].values()) == 1.0

    # the client sees the completed correction through the API
    status = console.server.get(
        f"/v1/reviews/{review_id}", headers={"Authorization": f"Bearer {client}"}
    ).json()
    assert status["status"] == "corrected" and status["output"] == final


def test_a_requests_cost_appears(console: Console, page: Any) -> None:
    client = console.key("cost-app", "client")
    answered = console.chat(client, "where is my parcel?")
    request_id = answered.headers["x-request-id"]
    cost = float(answered.headers["x-bastion-cost-usd"])
    assert cost > 0
    console.login(page, console.server.admin_key)
    page.goto(console.url + "/requests")
    page.fill("input[name=request_id]", request_id)
    page.click("button:has-text('Search')")
    page.click(f"a[href='/console/requests/{request_id}']")
    deadline = time.monotonic() + 15
    while not page.is_visible("tr[data-usage]"):  # usage rows are written just after
        assert time.monotonic() < deadline, "no usage record shown"
        time.sleep(0.2)
        page.reload()
    shown = page.text_content("[data-cost]").strip()
    assert shown.startswith("$") and float(shown[1:]) == pytest.approx(cost, abs=1e-6)
    assert "cost-app" in page.text_content("main")


def test_a_tenants_viewer_cannot_reach_another_tenants_pages(console: Console, page: Any) -> None:
    acme = console.key("acme-bot", "client", tenant="acme")
    theirs = console.predict(acme, "cancel my plan", review=True)
    request_id = theirs.headers["x-request-id"]
    item = theirs.json()["review"]["items"][0]["review_id"]
    console.login(page, console.key("gus", "operator", "reviewer", tenant="globex"))

    for path in (f"/requests/{request_id}", f"/review/{item}"):
        response = page.goto(console.url + path)
        assert response.status == 404, path
        assert "acme" not in page.text_content("main")
    page.goto(console.url + "/requests")
    assert page.locator(f"a[href='/console/requests/{request_id}']").count() == 0
    assert page.locator("a[href^='/console/requests/']").count() == 0  # globex has none
    page.goto(console.url + "/review")
    assert item not in page.text_content("main")
    assert page.goto(console.url + "/keys").status == 403  # keys and tenants: admins only
