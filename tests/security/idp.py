"""A test identity provider: real RSA and EC keys, a JWKS document, PyJWT-signed tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example.test/realms/bastion"
AUDIENCE = "bastion-api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Idp:
    """Signing keys by kid; ``jwks()`` publishes their public halves."""

    keys: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls) -> Idp:
        idp = cls()
        idp.add_rsa("rsa-1")
        idp.add_ec("ec-1")
        return idp

    def add_rsa(self, kid: str, bits: int = 2048) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def add_ec(self, kid: str) -> None:
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())

    def jwks(self, *kids: str) -> dict[str, Any]:
        out = []
        for kid in kids or tuple(self.keys):
            key = self.keys[kid]
            algo = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
            jwk = algo.to_jwk(key.public_key(), as_dict=True)
            out.append({**jwk, "kid": kid, "use": "sig"})
        return {"keys": out}

    def write_jwks(self, path: Path, *kids: str) -> Path:
        path.write_text(json.dumps(self.jwks(*kids)))
        return path

    def public_pem(self, kid: str) -> bytes:
        return bytes(
            self.keys[kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def token(
        self,
        kid: str = "rsa-1",
        *,
        alg: str | None = None,
        ttl: float = 300,
        header_kid: str | None = "",
        signer: Any = None,
        **claims: Any,
    ) -> str:
        """A signed token; claims default to a valid client of tenant acme."""
        now = time.time()
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice@example.test",
            "iat": int(now),
            "exp": int(now + ttl),
            "roles": ["client"],
            "tenant": "acme",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        key = signer if signer is not None else self.keys[kid]
        algorithm = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        headers = {"kid": kid if header_kid == "" else header_kid}
        if headers["kid"] is None:
            del headers["kid"]
        return jwt.encode(body, key, algorithm=algorithm, headers=headers)


def unsigned_token(**claims: Any) -> str:
    """An ``alg: none`` token (no signature)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{header}.{body}."


def hmac_token(secret: bytes, kid: str, **claims: Any) -> str:
    """An HS256 token keyed with ``secret`` (e.g. the provider's public key: alg confusion)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(mac)}"
