"""Logging in to the console: an API key or an IdP JWT, checked by the server's Authenticator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bastion.console.auth import log_in
from bastion.console.sessions import SessionStore
from bastion.errors import Forbidden, Unauthorized
from bastion.security import Authenticator, KeyStore
from bastion.security.jwt_auth import JwtVerifier
from bastion.settings.security import JwtSettings
from bastion.store import Database
from tests.security.idp import AUDIENCE, ISSUER, Idp


async def _services(database: Database, tmp_path: Path) -> tuple[Any, Idp]:
    idp = Idp.create()
    jwt = JwtSettings.model_validate(
        {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks_file": idp.write_jwks(tmp_path / "jwks.json"),
        }
    )
    keys = KeyStore(database)
    authenticator = Authenticator(keys, jwt=await JwtVerifier.start(jwt))
    settings = SimpleNamespace(security=SimpleNamespace(jwt=jwt))
    return SimpleNamespace(authenticator=authenticator, settings=settings, keys=keys), idp


async def test_a_jwt_session_ends_with_its_token(database: Database, tmp_path: Path) -> None:
    svc, idp = await _services(database, tmp_path)
    sessions = SessionStore(database, svc.keys)
    token = idp.token(roles=["operator"], ttl=120)
    session_id, session = await log_in(svc, sessions, token)
    assert session.principal.tenant == "acme" and "operator" in session.principal.roles
    assert session.expires_at <= datetime.now(UTC) + timedelta(seconds=121)
    assert token not in session_id
    found = await sessions.find(session_id)
    assert found is not None and found.principal == session.principal
    await svc.authenticator.aclose()


async def test_client_only_and_bad_credentials_cannot_log_in(
    database: Database, tmp_path: Path
) -> None:
    svc, idp = await _services(database, tmp_path)
    sessions = SessionStore(database, svc.keys)
    with pytest.raises(Forbidden, match="client role"):
        await log_in(svc, sessions, idp.token(roles=["client"]))
    with pytest.raises(Unauthorized):
        await log_in(svc, sessions, "bst_nope")
    with pytest.raises(Unauthorized):
        await log_in(svc, sessions, "  ")
    secret, _ = await svc.keys.create("rev", ["reviewer"], tenant="globex")
    _, session = await log_in(svc, sessions, secret)
    assert session.principal.name == "rev" and session.principal.tenant == "globex"
    await svc.authenticator.aclose()
