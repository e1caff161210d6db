"""Small console pieces: histogram quantiles, charts from numbers, safe redirects, headers."""

from __future__ import annotations

from typing import Any

from bastion.console import charts
from bastion.console.headers import SecurityHeaders
from bastion.console.overview import quantile
from bastion.console.pages.login import _next
from bastion.console.pages.review import correction


def test_quantiles_from_cumulative_buckets() -> None:
    buckets = {0.01: 50.0, 0.1: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert quantile(buckets, 0.5) == 0.01
    assert abs((quantile(buckets, 0.7) or 0) - 0.055) < 1e-9
    assert quantile({}, 0.5) is None and quantile({1.0: 0.0}, 0.5) is None


def test_charts_escape_their_labels() -> None:
    svg = charts.bars(["<script>"], [3.0], "a & b")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert "<path" in charts.lines(["x", "y"], [[1.0, None], [0.5, 0.7]], "t")


def test_after_login_only_console_paths() -> None:
    assert _next("/console/requests?x=1") == "/console/requests?x=1"
    for bad in ("https://evil.example/", "//evil.example/console", "/consolex/../v1", None):
        assert _next(bad) == "/console/"
    assert _next("/console/../v1/admin/keys") == "/console/"


def test_a_correction_is_a_picked_label_json_or_plain_text() -> None:
    assert correction({"label": "billing_question"}) == "billing_question"
    assert correction({"output": '{"value": 3}'}) == {"value": 3}
    assert correction({"output": "the right answer"}) == "the right answer"


async def test_every_response_carries_the_security_headers() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-frame-options", b"SAMEORIGIN")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await SecurityHeaders(app)({"type": "http"}, None, send)
    headers = dict(sent[0]["headers"])
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"DENY"  # the app's weaker value is replaced
