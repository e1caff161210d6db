"""The identity provider's signing keys: a JWKS from a file and/or a URL, refetched on a miss.

The URL is fetched when the key set is loaded (at start: a failure stops the start unless a
file is configured too), again when a token names a ``kid`` the set does not hold — at most
once per ``jwks_min_refresh_s``, one fetch at a time — and in the background once the set is
older than ``jwks_max_age_s``, so a key the provider withdrew stops verifying. A failed
refetch keeps the keys already held.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from bastion.errors import ConfigError
from bastion.settings.security import JwtSettings

log = structlog.get_logger(__name__)

MAX_JWKS_BYTES = 1_048_576
MIN_RSA_BITS = 2048
_EC_ALGORITHM = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}

Fetch = Callable[[str, float], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One public key of the set, with what its JWK says about the algorithms it serves."""

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None  # the JWK's own ``alg``, when it names one
    key: Any  # a cryptography public key object

    def accepts(self, alg: str) -> bool:
        """Whether a token signed with ``alg`` may be verified with this key."""
        if self.alg is not None:
            return alg == self.alg
        if self.kty == "RSA":
            return alg[:2] in ("RS", "PS")
        if self.kty == "EC":
            return alg == _EC_ALGORITHM.get(self.crv or "")
        return self.kty == "OKP" and alg == "EdDSA"


class KeySet:
    """Signing keys by ``kid``; ``find`` refetches the JWKS URL when a kid is unknown."""

    def __init__(
        self,
        settings: JwtSettings,
        pinned: Mapping[str | None, SigningKey],
        *,
        clock: Callable[[], float] = time.monotonic,
        fetch: Fetch | None = None,
    ) -> None:
        self._settings = settings
        self._pinned = dict(pinned)  # from jwks_file: always held
        self._keys = dict(pinned)
        self._clock = clock
        self._fetch = fetch or fetch_url
        self._fetched_at = -math.inf
        self._refreshing: asyncio.Task[bool] | None = None
        self.fetches = 0

    @classmethod
    async def load(
        cls,
        settings: JwtSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        fetch: Fetch | None = None,
    ) -> KeySet:
        """The configured keys; a ConfigError when there are none to verify with."""
        pinned = read_jwks_file(settings.jwks_file) if settings.jwks_file is not None else {}
        keys = cls(settings, pinned, clock=clock, fetch=fetch)
        if settings.jwks_url is not None:
            try:
                await keys._download()
            except ConfigError as exc:
                if not pinned:
                    raise
                log.warning("jwks_fetch_failed", url=settings.jwks_url, error=exc.message)
        return keys

    def __len__(self) -> int:
        return len(self._keys)

    async def find(self, kid: str | None) -> SigningKey | None:
        """The key for ``kid`` (a set of one also serves a token without kid), refetching
        the URL once when it is not held; None when it is still unknown."""
        if self._stale():
            self._start_refresh()  # in the background: the keys held still verify meanwhile
        key = self._lookup(kid)
        if key is None and await self.refresh():
            key = self._lookup(kid)
        return key

    async def refresh(self) -> bool:
        """Refetch the URL unless that was tried less than ``jwks_min_refresh_s`` ago;
        whether a fetch ran and succeeded. Concurrent callers share one fetch."""
        task = self._start_refresh()
        return await asyncio.shield(task) if task is not None else False

    async def aclose(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing

    def _lookup(self, kid: str | None) -> SigningKey | None:
        key = self._keys.get(kid)
        if key is None and len(self._keys) == 1:
            only = next(iter(self._keys.values()))
            if kid is None or only.kid is None:
                return only
        return key

    def _stale(self) -> bool:
        age = self._clock() - self._fetched_at
        return self._settings.jwks_url is not None and age >= self._settings.jwks_max_age_s

    def _start_refresh(self) -> asyncio.Task[bool] | None:
        if self._settings.jwks_url is None:
            return None
        if self._refreshing is not None:
            return self._refreshing
        if self._clock() - self._fetched_at < self._settings.jwks_min_refresh_s:
            return None
        task = asyncio.ensure_future(self._refresh_once())
        self._refreshing = task
        task.add_done_callback(self._refreshed)
        return task

    def _refreshed(self, task: asyncio.Task[bool]) -> None:
        if self._refreshing is task:
            self._refreshing = None

    async def _refresh_once(self) -> bool:
        try:
            await self._download()
        except ConfigError as exc:
            log.warning("jwks_refresh_failed", url=self._settings.jwks_url, error=exc.message)
            return False
        return True

    async def _download(self) -> None:
        url = self._settings.jwks_url
        assert url is not None
        self._fetched_at = self._clock()  # failures count too: the rate bound holds
        self.fetches += 1
        fetched = parse_jwks(await self._fetch(url, self._settings.jwks_timeout_s), url)
        self._keys = {**fetched, **self._pinned}


async def fetch_url(url: str, timeout_s: float) -> bytes:
    """GET a JWKS document (at most ``MAX_JWKS_BYTES``); any failure is a ConfigError."""
    import httpx  # here: a server without a JWKS URL never loads it

    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("GET", url, headers={"accept": "application/json"}) as resp,
        ):
            if resp.status_code != httpx.codes.OK:
                raise ConfigError(f"the JWKS at {url} answered HTTP {resp.status_code}")
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ConfigError(f"the JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ConfigError(f"cannot fetch the JWKS from {url}: {reason}") from exc


def read_jwks_file(path: Path) -> dict[str | None, SigningKey]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the JWKS file {path} (security.jwt.jwks_file): {exc.strerror}"
        ) from exc
    return parse_jwks(data, f"the JWKS file {path}")


def parse_jwks(data: bytes, source: str) -> dict[str | None, SigningKey]:
    """The usable public signing keys of a JWKS document, by kid; ConfigError if none."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} is not valid JSON") from exc
    entries = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f'{source} is not a JWKS: expected an object {{"keys": [...]}}')
    keys: dict[str | None, SigningKey] = {}
    for entry in entries:
        key = _signing_key(entry, source)
        if key is not None:
            keys[key.kid] = key
    if not keys:
        raise ConfigError(
            f"{source} holds no usable signing key (public RSA of at least {MIN_RSA_BITS} "
            "bits, EC or Ed25519 keys whose 'use', if given, is 'sig')"
        )
    return keys


def _signing_key(entry: Any, source: str) -> SigningKey | None:
    """One JWK as a SigningKey, or None (logged) when it cannot verify tokens here."""
    if not isinstance(entry, dict):
        return None
    kid = entry.get("kid")
    why = None
    if entry.get("use", "sig") != "sig":
        why = "not a signing key"
    elif entry.get("kty") not in ("RSA", "EC", "OKP"):
        why = "not an asymmetric key (symmetric keys are never accepted)"
    elif "d" in entry:
        why = "holds private key material; publish only public keys"
    elif kid is not None and not isinstance(kid, str):
        why = "its kid is not a string"
    if why is None:
        try:
            jwk = PyJWK(entry)
        except PyJWTError as exc:
            why = f"unusable ({type(exc).__name__})"
        else:
            if entry["kty"] == "RSA" and jwk.key.key_size < MIN_RSA_BITS:
                why = f"an RSA key shorter than {MIN_RSA_BITS} bits"
            else:
                alg = entry.get("alg")
                return SigningKey(
                    kid,
                    entry["kty"],
                    entry.get("crv"),
                    alg if isinstance(alg, str) else None,
                    jwk.key,
                )
    log.warning("jwks_key_skipped", source=source, kid=str(kid)[:64], reason=why)
    return None
