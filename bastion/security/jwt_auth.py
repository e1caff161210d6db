"""Bearer JWTs from an identity provider → Principal: verified once, then cached until expiry.

A token is verified against the provider's JWKS (``jwks.py``) with an allow-listed asymmetric
algorithm that must also suit the key it names, then its issuer, audience and times are
checked (with ``leeway_s``), and its claims are mapped: roles through ``role_map`` (no mapped
role: refused), tenant, team, subject (the principal's name) and allowed deployments. A
verified principal is kept, by the token's sha256, until min(exp + leeway, ``cache_ttl_s``),
so the hot path does not verify a signature per request. Every failure is a 401 with a clear
message that never repeats the token.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jwt

from bastion.core.principal import ROLES, Principal
from bastion.errors import Unauthorized
from bastion.security.jwks import Fetch, KeySet
from bastion.settings.security import JwtSettings

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_SUBJECT = 256


class JwtVerifier:
    """Verify bearer JWTs and map their claims to a Principal."""

    def __init__(
        self,
        settings: JwtSettings,
        keys: KeySet,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._clock = clock
        self._wall = wall
        self._cache: dict[bytes, tuple[float, Principal]] = {}
        self.verifications = 0  # signatures actually checked (cache misses)

    @classmethod
    async def start(
        cls,
        settings: JwtSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        fetch: Fetch | None = None,
    ) -> JwtVerifier:
        """Load the key set (fetching ``jwks_url``); a ConfigError if there is none."""
        keys = await KeySet.load(settings, clock=clock, fetch=fetch)
        return cls(settings, keys, clock=clock, wall=wall)

    @property
    def max_token_bytes(self) -> int:
        return self._settings.max_token_bytes

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` stands for, or Unauthorized saying what is wrong with it."""
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        claims = await self._verified_claims(token)
        principal = self._principal(claims)
        self._remember(digest, principal, claims["exp"])
        return principal

    def forget(self) -> None:
        self._cache.clear()

    async def aclose(self) -> None:
        await self._keys.aclose()

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        s = self._settings
        with self._map_errors():
            header = jwt.get_unverified_header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in s.algorithms:
            raise Unauthorized(
                f"bearer token algorithm {_show(alg)} is not allowed; this server accepts "
                f"{', '.join(s.algorithms)} (never 'none' or HS*)"
            )
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized("bearer token header has a 'kid' that is not a string")
        key = await self._keys.find(kid)
        if key is None:
            which = f"key id {_show(kid)}" if kid is not None else "no key id (kid)"
            raise Unauthorized(
                f"bearer token names {which}, which is not in the identity provider's key set"
            )
        if not key.accepts(alg):
            kind = " ".join(p for p in (key.kty, key.alg or key.crv) if p)
            raise Unauthorized(f"bearer token algorithm {alg} does not suit its key ({kind})")
        self.verifications += 1
        with self._map_errors():
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                issuer=s.issuer,
                audience=list(s.audience),
                leeway=s.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        return claims

    @contextlib.contextmanager
    def _map_errors(self) -> Iterator[None]:
        """PyJWT's exceptions → a 401 naming what failed (checked most specific first)."""
        try:
            yield
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("bearer token has expired; get a new one") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized(
                "bearer token is not valid yet (nbf or iat in the future); check the clocks"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized(
                f"bearer token was not issued by {self._settings.issuer!r} (wrong 'iss')"
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized(
                f"bearer token is not meant for this server: its 'aud' holds none of "
                f"{', '.join(self._settings.audience)}"
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"bearer token lacks the required claim {exc.claim!r}") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("bearer token signature is invalid") from exc
        except jwt.DecodeError as exc:
            raise Unauthorized("bearer token is malformed: not a decodable JWT") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized(f"bearer token is invalid ({type(exc).__name__})") from exc

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        s = self._settings
        subject = claim(claims, s.subject_claim)
        if not isinstance(subject, str) or not 0 < len(subject) <= _MAX_SUBJECT:
            raise Unauthorized(
                f"bearer token has no usable subject: claim {s.subject_claim!r} must be a "
                f"string of 1-{_MAX_SUBJECT} characters"
            )
        tenant = self._ident(claims, s.tenant_claim, "tenant", s.default_tenant)
        team = self._ident(claims, s.team_claim, "team", None) if s.team_claim else None
        return Principal(
            key_id=_key_id(subject),
            name=subject,
            tenant=tenant or "default",
            roles=self._roles(claims),
            deployments=self._deployments(claims),
            team=team,
        )

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        s = self._settings
        names = names_of(claim(claims, s.roles_claim))
        if s.role_map:
            roles: frozenset[str] = frozenset(r for n in names for r in s.role_map.get(n, ()))
        else:
            roles = frozenset(n for n in names if n in ROLES)
        if not roles:
            held = ", ".join(_show(n) for n in names[:10]) or "nothing"
            raise Unauthorized(
                f"bearer token grants no Bastion role: claim {s.roles_claim!r} holds {held}, "
                "and none of it maps to a Bastion role (security.jwt.role_map)"
            )
        return roles

    def _deployments(self, claims: Mapping[str, Any]) -> frozenset[str] | None:
        s = self._settings
        allowed = frozenset(s.deployments) if s.deployments is not None else None
        if s.deployments_claim is not None:
            value = claim(claims, s.deployments_claim)
            if value is not None:
                named = frozenset(names_of(value))
                allowed = named if allowed is None else allowed & named
        return allowed

    @staticmethod
    def _ident(claims: Mapping[str, Any], name: str, what: str, default: str | None) -> str | None:
        value = claim(claims, name)
        if value is None:
            if default is None and what == "tenant":
                raise Unauthorized(f"bearer token lacks the {what} claim {name!r}")
            return default
        if not isinstance(value, str) or _NAME.fullmatch(value) is None:
            raise Unauthorized(
                f"bearer token's {what} claim {name!r} is not a valid {what} name (letters, "
                "digits, '.', '_' or '-'; at most 100)"
            )
        return value

    def _remember(self, digest: bytes, principal: Principal, exp: Any) -> None:
        s = self._settings
        ttl = min(s.cache_ttl_s, float(exp) + s.leeway_s - self._wall())
        if ttl <= 0:
            return
        while len(self._cache) >= s.cache_max_entries:
            del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[digest] = (self._clock() + ttl, principal)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (``realm_access.roles``)
    when no claim has that exact name (names like ``https://example.com/roles`` hold dots)."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def names_of(value: Any) -> list[str]:
    """A claim holding names: a list of strings or one space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _key_id(subject: str) -> str:
    """The principal's key id: per subject, short enough for audit and usage records."""
    if len(subject) <= 60:
        return f"jwt:{subject}"
    return "jwt:" + hashlib.sha256(subject.encode()).hexdigest()[:32]


def _show(value: Any) -> str:
    """A claim value quoted for an error message, cut short (it comes from the caller)."""
    text = repr(value)
    return text if len(text) <= 66 else text[:63] + "...'"
