"""A JWKS URL served by a tiny HTTP server on 127.0.0.1: fetched at start, refetched on an
unknown kid at a bounded rate, a start-up error when unreachable unless a file is given."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import ConfigError, Unauthorized
from bastion.security.jwt_auth import JwtVerifier
from bastion.settings.security import JwtSettings
from tests.e2e.server import free_port
from tests.security.idp import AUDIENCE, ISSUER, Idp


class JwksServer:
    """Serves ``body`` (or ``status``) at /jwks and counts the requests."""

    def __init__(self) -> None:
        self.body: bytes = b'{"keys": []}'
        self.status = 200
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                self.send_response(outer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/jwks"

    def publish(self, jwks: dict[str, Any]) -> None:
        self.body = json.dumps(jwks).encode()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    thread = threading.Thread(target=server.http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.http.shutdown()
    server.http.server_close()


def settings(**extra: Any) -> JwtSettings:
    return JwtSettings.model_validate({"issuer": ISSUER, "audience": AUDIENCE, **extra})


async def test_fetched_at_start_and_refetched_on_an_unknown_kid(jwks_server: JwksServer) -> None:
    idp = Idp.create()
    jwks_server.publish(idp.jwks("rsa-1"))
    now = [0.0]
    v = await JwtVerifier.start(
        settings(jwks_url=jwks_server.url, jwks_min_refresh_s=30), clock=lambda: now[0]
    )
    assert jwks_server.hits == 1
    assert (await v.verify(idp.token("rsa-1"))).roles == {"client"}

    idp.add_rsa("rsa-2")  # the provider rotates: a new key signs, the JWKS lists both
    jwks_server.publish(idp.jwks("rsa-1", "rsa-2"))
    now[0] = 31.0
    assert (await v.verify(idp.token("rsa-2"))).name == "alice@example.test"
    assert jwks_server.hits == 2

    # unknown kids do not make the server hammer the provider: at most one fetch per 30 s
    for i in range(5):
        with pytest.raises(Unauthorized, match="not in the identity provider's key set"):
            await v.verify(idp.token("rsa-1", header_kid=f"bogus-{i}"))
    assert jwks_server.hits == 2
    now[0] = 62.0
    with pytest.raises(Unauthorized, match="not in the identity provider's key set"):
        await v.verify(idp.token("rsa-1", header_kid="bogus-late"))
    assert jwks_server.hits == 3
    await v.aclose()


async def test_concurrent_misses_share_one_fetch(jwks_server: JwksServer) -> None:

    idp = Idp.create()
    jwks_server.publish(idp.jwks("rsa-1"))
    now = [0.0]
    v = await JwtVerifier.start(settings(jwks_url=jwks_server.url), clock=lambda: now[0])
    jwks_server.publish(idp.jwks())
    now[0] = 100.0
    tokens = [idp.token("ec-1", sub=f"u{i}") for i in range(10)]
    principals = await asyncio.gather(*(v.verify(t) for t in tokens))
    assert {p.name for p in principals} == {f"u{i}" for i in range(10)}
    assert jwks_server.hits == 2


async def test_an_old_key_set_is_refetched_in_the_background(jwks_server: JwksServer) -> None:

    idp = Idp.create()
    jwks_server.publish(idp.jwks())
    now = [0.0]
    v = await JwtVerifier.start(
        settings(jwks_url=jwks_server.url, jwks_max_age_s=600, cache_ttl_s=0),
        clock=lambda: now[0],
    )
    jwks_server.publish(idp.jwks("ec-1"))  # the provider withdraws rsa-1
    now[0] = 601.0
    await v.verify(idp.token("rsa-1"))  # still held while the refetch runs
    for _ in range(200):  # the refetch lands within a few milliseconds
        try:
            await v.verify(idp.token("rsa-1"))
        except Unauthorized as exc:
            assert "not in the identity provider's key set" in exc.message
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("a key the provider withdrew still verifies")
    assert jwks_server.hits == 2
    await v.aclose()


async def test_unreachable_url_is_a_start_up_error_unless_a_file_is_given(
    jwks_server: JwksServer, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/jwks"
    with pytest.raises(ConfigError, match=r"cannot fetch the JWKS from http://127\.0\.0\.1"):
        await JwtVerifier.start(settings(jwks_url=dead, jwks_timeout_s=2))
    jwks_server.status = 503
    with pytest.raises(ConfigError, match="answered HTTP 503"):
        await JwtVerifier.start(settings(jwks_url=jwks_server.url))
    jwks_server.status = 200
    jwks_server.body = b"<html>login</html>"
    with pytest.raises(ConfigError, match="not valid JSON"):
        await JwtVerifier.start(settings(jwks_url=jwks_server.url))

    idp = Idp.create()
    file = idp.write_jwks(tmp_path / "jwks.json", "ec-1")
    v = await JwtVerifier.start(settings(jwks_url=dead, jwks_file=file, jwks_timeout_s=2))
    assert (await v.verify(idp.token("ec-1"))).name
    await v.aclose()
