"""Webhook signatures: HMAC-SHA256 over timestamp and body; replays and tampering refused."""

from __future__ import annotations

import pytest

from bastion.actions.signing import SignatureError, WebhookVerifier, sign, verify

SECRET = "whsec_test"


def test_a_signed_delivery_verifies() -> None:
    body = b'{"type":"decision"}'
    headers = sign(SECRET, body, "evt-1", now=lambda: 1000.0)
    assert verify(SECRET, body, headers, now=lambda: 1010.0) == "evt-1"


def test_a_tampered_body_or_wrong_secret_is_refused() -> None:
    body = b'{"amount":10}'
    headers = sign(SECRET, body, "evt-1", now=lambda: 1000.0)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, b'{"amount":1000}', headers, now=lambda: 1000.0)
    with pytest.raises(SignatureError, match="does not match"):
        verify("other", body, headers, now=lambda: 1000.0)
    forged = {**headers, "x-bastion-timestamp": "1001"}  # a new time without a new signature
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, body, forged, now=lambda: 1000.0)


def test_a_replay_is_refused_outside_the_window_and_inside_it() -> None:
    body = b"{}"
    clock = [1000.0]
    headers = sign(SECRET, body, "evt-9", now=lambda: clock[0])
    verifier = WebhookVerifier(SECRET, tolerance_s=300, now=lambda: clock[0])
    assert verifier.verify(body, headers) == "evt-9"
    with pytest.raises(SignatureError, match="already received"):
        verifier.verify(body, headers)  # the same delivery again, inside the window
    clock[0] += 301
    with pytest.raises(SignatureError, match="outside"):
        WebhookVerifier(SECRET, now=lambda: clock[0]).verify(body, headers)


def test_missing_headers_are_refused() -> None:
    with pytest.raises(SignatureError, match="missing"):
        verify(SECRET, b"{}", {})
