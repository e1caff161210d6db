"""Bearer JWTs from an identity provider: real keys and signatures, claims → principal, 401s."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, get_args

import pytest

from bastion.core.principal import ROLES
from bastion.errors import ConfigError, Unauthorized
from bastion.security import Authenticator
from bastion.security.jwt_auth import JwtVerifier
from bastion.security.jwt_shape import looks_like_jwt
from bastion.settings import load_settings
from bastion.settings.security import BastionRole, JwtSettings
from tests.security.idp import AUDIENCE, ISSUER, Idp, hmac_token, unsigned_token


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp.create()


def settings(jwks: Path, **extra: Any) -> JwtSettings:
    return JwtSettings.model_validate(
        {"issuer": ISSUER, "audience": AUDIENCE, "jwks_file": jwks, **extra}
    )


@pytest.fixture
def jwks(idp: Idp, tmp_path: Path) -> Path:
    return idp.write_jwks(tmp_path / "jwks.json")


async def verifier(jwks: Path, **extra: Any) -> JwtVerifier:
    return await JwtVerifier.start(settings(jwks, **extra))


class NoKeys:
    """The API-key store, for tests where a JWT must never reach it."""

    lookups = 0

    async def find(self, plaintext: str) -> None:
        self.lookups += 1


async def refused(v: JwtVerifier, token: str, match: str) -> str:
    with pytest.raises(Unauthorized, match=match) as info:
        await v.verify(token)
    assert token not in info.value.message and token[-20:] not in info.value.message
    return info.value.message


async def test_valid_tokens_map_to_a_principal(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks, role_map={"ml-user": "client", "ml-ops": ["operator", "reviewer"]})
    p = await v.verify(idp.token(roles=["ml-ops", "unrelated"], team="fraud"))
    assert p.name == "alice@example.test" and p.key_id == "jwt:alice@example.test"
    assert p.roles == {"operator", "reviewer"} and p.tenant == "acme" and p.team == "fraud"
    assert p.deployments is None and p.can_use("breast-cancer")
    ec = await v.verify(idp.token("ec-1", roles="ml-user", sub="svc-1"))
    assert ec.roles == {"client"} and ec.name == "svc-1"


async def test_roles_as_list_or_space_separated_string(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks)  # no role_map: IdP roles named like Bastion roles count
    assert (await v.verify(idp.token(roles="client reviewer"))).roles == {"client", "reviewer"}
    assert (await v.verify(idp.token(roles=["approver", "x"]))).roles == {"approver"}


async def test_nested_and_custom_claims(idp: Idp, jwks: Path) -> None:
    v = await verifier(
        jwks,
        roles_claim="realm_access.roles",
        tenant_claim="https://bastion.example/tenant",
        subject_claim="preferred_username",
        team_claim=None,
        deployments_claim="bastion_deployments",
        role_map={"bastion-client": "client"},
    )
    token = idp.token(
        roles=None,
        tenant=None,
        realm_access={"roles": ["bastion-client", "offline_access"]},
        preferred_username="bob",
        team="ignored",
        bastion_deployments="breast-cancer support-intent",
        **{"https://bastion.example/tenant": "globex"},
    )
    p = await v.verify(token)
    assert (p.name, p.tenant, p.team, p.roles) == ("bob", "globex", None, {"client"})
    assert p.deployments == {"breast-cancer", "support-intent"}
    assert p.can_use("breast-cancer") and not p.can_use("minilm")


async def test_configured_deployments_bound_every_token(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks, deployments=["breast-cancer"], deployments_claim="dep")
    assert (await v.verify(idp.token())).deployments == {"breast-cancer"}
    both = await v.verify(idp.token(dep=["breast-cancer", "minilm"]))
    assert both.deployments == {"breast-cancer"}


async def test_tenant_defaults_or_is_required(idp: Idp, jwks: Path) -> None:
    assert (await (await verifier(jwks)).verify(idp.token(tenant=None))).tenant == "default"
    strict = await verifier(jwks, default_tenant=None)
    await refused(strict, idp.token(tenant=None), "lacks the tenant claim 'tenant'")
    await refused(strict, idp.token(tenant="../etc"), "not a valid tenant name")


async def test_expired_and_not_yet_valid(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks, leeway_s=5)
    await refused(v, idp.token(ttl=-60), "expired")
    assert (await v.verify(idp.token(ttl=-2))).name  # within the leeway
    await refused(v, idp.token(nbf=int(time.time()) + 120), "not valid yet")
    await refused(v, idp.token(iat=int(time.time()) + 120), "not valid yet")
    await refused(v, idp.token(exp=None), "lacks the required claim 'exp'")


async def test_wrong_issuer_and_audience(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks)
    message = await refused(v, idp.token(iss="https://evil.test"), "not issued by")
    assert "evil" not in message
    await refused(v, idp.token(aud="another-api"), "not meant for this server")
    assert (await v.verify(idp.token(aud=["another-api", AUDIENCE]))).name
    await refused(v, idp.token(aud=None), "lacks the required claim 'aud'")


async def test_wrong_signature_and_unknown_kid(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks)
    forger = Idp()
    forger.add_rsa("rsa-1")  # same kid, another key
    await refused(v, idp.token(signer=forger.keys["rsa-1"]), "signature is invalid")
    token = idp.token()
    head, body, sig = token.split(".")
    tampered = f"{head}.{body[:-4]}AAAA.{sig}"
    await refused(v, tampered, "signature is invalid|malformed")
    await refused(v, idp.token(header_kid="rotated-away"), "'rotated-away', which is not in")
    await refused(v, idp.token(header_kid=None), "no key id")  # two keys: kid needed


async def test_a_set_of_one_key_serves_tokens_without_kid(idp: Idp, tmp_path: Path) -> None:
    v = await verifier(idp.write_jwks(tmp_path / "one.json", "ec-1"))
    assert (await v.verify(idp.token("ec-1", header_kid=None))).name


async def test_alg_none_and_hmac_confusion_are_refused(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": time.time() + 60}
    await refused(v, unsigned_token(**claims, roles=["admin"]), "algorithm 'none' is not allowed")
    confused = hmac_token(idp.public_pem("rsa-1"), "rsa-1", **claims, roles=["admin"])
    await refused(v, confused, "algorithm 'HS256' is not allowed")
    # an allowed algorithm that does not suit the key the token names
    await refused(v, idp.token("ec-1", header_kid="rsa-1"), "ES256 does not suit its key")
    for alg in ("none", "HS256"):
        with pytest.raises(ValueError, match="algorithms"):
            settings(jwks, algorithms=[alg])


async def test_no_mapped_role_is_refused(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks, role_map={"ml-user": "client"})
    await refused(v, idp.token(roles=["client"]), "grants no Bastion role")  # not in the map
    await refused(v, idp.token(roles=None), "claim 'roles' holds nothing")
    await refused(v, idp.token(roles=[]), "grants no Bastion role")
    await refused(v, idp.token(roles=42), "grants no Bastion role")


async def test_garbage_is_a_401_not_a_500(jwks: Path) -> None:
    v = await verifier(jwks)
    for token in ("eyJhbGciOiJSUzI1NiJ9.e30.", "eyJ!!!.x.y", "eyJhbGci.bad.sig", "eyJ9.e30.e30"):
        with pytest.raises(Unauthorized):
            await v.verify(token)


async def test_verified_tokens_are_cached_until_exp_or_ttl(idp: Idp, jwks: Path) -> None:
    mono, wall = [0.0], [time.time()]
    v = await JwtVerifier.start(
        settings(jwks, cache_ttl_s=60, leeway_s=0), clock=lambda: mono[0], wall=lambda: wall[0]
    )
    token = idp.token(ttl=30)
    first = await v.verify(token)
    assert await v.verify(token) is first and v.verifications == 1  # no second RSA check
    mono[0] += 29  # still before exp (30 s < the 60 s ttl)
    assert await v.verify(token) is first and v.verifications == 1
    mono[0] += 2  # 31 s after the wall time the entry was made at: past exp, so verified again
    await v.verify(token)  # (PyJWT checks exp against the real clock, where it is still valid)
    assert v.verifications == 2

    long_lived = idp.token(ttl=3600)
    await v.verify(long_lived)
    mono[0] += 61  # the ttl bounds a long-lived token's cache entry
    await v.verify(long_lived)
    assert v.verifications == 4


async def test_cache_is_bounded(idp: Idp, jwks: Path) -> None:
    v = await verifier(jwks, cache_max_entries=3)
    tokens = [idp.token(sub=f"user-{i}") for i in range(5)]
    for t in tokens:
        await v.verify(t)
    assert len(v._cache) == 3
    await v.verify(tokens[-1])
    assert v.verifications == 5


async def test_authenticator_routes_jwts_and_keeps_api_keys(idp: Idp, jwks: Path) -> None:
    keys = NoKeys()
    auth = Authenticator(keys, jwt=await verifier(jwks))  # type: ignore[arg-type]
    big = idp.token(groups=["g" * 40] * 40)
    assert 1000 < len(big) < 8192 and looks_like_jwt(big)
    assert (await auth.authenticate(f"Bearer {big}")).name == "alice@example.test"
    with pytest.raises(Unauthorized, match="expired"):
        await auth.authenticate(f"Bearer {idp.token(ttl=-120)}")
    with pytest.raises(Unauthorized, match="malformed"):
        await auth.authenticate("Bearer " + idp.token(pad="x" * 9000))
    with pytest.raises(Unauthorized, match="invalid, expired or revoked API key"):
        await auth.authenticate("Bearer bst_not_a_jwt")
    assert keys.lookups == 1  # only the API key reached the key store


async def test_without_jwt_settings_tokens_are_api_keys(idp: Idp) -> None:
    keys = NoKeys()
    auth = Authenticator(keys)  # type: ignore[arg-type]
    short = idp.token("ec-1", roles=None, tenant=None, iat=None, aud=None, iss=None)
    assert len(short) <= 256
    with pytest.raises(Unauthorized, match="API key"):
        await auth.authenticate(f"Bearer {short}")
    with pytest.raises(Unauthorized, match="malformed"):
        await auth.authenticate(f"Bearer {idp.token()}")  # RS256: longer than a key may be
    assert keys.lookups == 1


async def test_settings_need_keys_and_known_roles(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jwks_file or jwks_url"):
        JwtSettings.model_validate({"issuer": ISSUER, "audience": AUDIENCE})
    with pytest.raises(ValueError, match="role_map"):
        settings(tmp_path / "x.json", role_map={"boss": "emperor"})
    assert set(get_args(BastionRole)) == set(ROLES)


async def test_bad_jwks_files_fail_the_start(idp: Idp, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the JWKS file"):
        await verifier(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        await verifier(tmp_path / "bad.json")
    weak = Idp()
    weak.add_rsa("weak", bits=1024)
    private = idp.jwks("ec-1")["keys"][0] | {"d": "secret"}
    (tmp_path / "unusable.json").write_text(
        json.dumps({"keys": [*weak.jwks()["keys"], private, {"kty": "oct", "k": "c2VjcmV0"}]})
    )
    with pytest.raises(ConfigError, match="no usable signing key"):
        await verifier(tmp_path / "unusable.json")


def test_the_environment_configures_jwt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BASTION_CONFIG", raising=False)
    for key, value in {
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,  # one value, or a JSON list
        "ALGORITHMS": '["ES256", "RS256"]',
        "JWKS_FILE": str(tmp_path / "jwks.json"),
        "ROLE_MAP": '{"ml-user": "client"}',
    }.items():
        monkeypatch.setenv(f"BASTION_SECURITY__JWT__{key}", value)
    jwt = load_settings().security.jwt
    assert jwt is not None and jwt.audience == (AUDIENCE,)
    assert jwt.algorithms == ("ES256", "RS256") and jwt.role_map == {"ml-user": ("client",)}
