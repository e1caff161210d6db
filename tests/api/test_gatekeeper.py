"""The gatekeeper's pieces: public routes, refusal reasons, key prefixes; per-route body
limits; the docs' CSP by script hash."""

from __future__ import annotations

import base64
import hashlib

from bastion.api.gatekeeper import is_public, key_prefix, reason_of
from bastion.api.headers import docs_policy
from bastion.api.middleware import BodyLimit


def test_only_health_docs_and_metrics_are_public() -> None:
    for path in ("/healthz", "/readyz", "/v2/health/live", "/docs", "/openapi.json", "/console/x"):
        assert is_public(path), path
    for path in (
        "/v1/admin/keys",
        "/v1/deployments/x/predict",
        "/v1/chat/completions",
        "/v2/models/x",
    ):
        assert not is_public(path), path


def test_reasons_and_prefixes() -> None:
    assert reason_of(None) == "missing_key"
    assert reason_of("Basic abc") == "malformed" and reason_of("Bearer ") == "malformed"
    assert reason_of("Bearer bst_nope") == "invalid_key"
    jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    assert reason_of(jwt) == "invalid_token" and key_prefix(jwt) is None
    assert key_prefix("Bearer bst_0123456789abcdef") == "bst_01234567"
    assert key_prefix(None) is None


def test_body_limits_per_route() -> None:
    limit = BodyLimit(lambda *a: None, max_bytes=10, max_admin_bytes=1000, max_admin_json_bytes=100)  # type: ignore[arg-type, return-value]

    def scope(path: str, ctype: bytes = b"application/json") -> dict[str, object]:
        return {"path": path, "headers": [(b"content-type", ctype)]}

    assert limit.limit(scope("/v1/deployments/x/predict")) == 10
    assert limit.limit(scope("/v1/admin/keys")) == 100
    assert limit.limit(scope("/v1/admin/models/m/versions")) == 1000
    assert limit.limit(scope("/v1/admin/eval/sets")) == 1000
    assert limit.limit(scope("/v1/admin/models/m/promote")) == 100
    assert limit.limit(scope("/v1/admin/anything", b"application/octet-stream")) == 1000


def test_the_docs_policy_allows_exactly_the_inline_scripts() -> None:
    page = b"<html><script src='x'></script><script>boot()</script></html>"
    digest = base64.b64encode(hashlib.sha256(b"boot()").digest()).decode()
    policy = docs_policy(page)
    assert f"script-src 'sha256-{digest}' https://cdn.jsdelivr.net;" in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
