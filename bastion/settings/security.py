"""Security settings: API keys, and bearer JWTs from an external identity provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from bastion.settings.core import Section

# Asymmetric algorithms only: ``none`` and the HMAC family (HS*) can never be configured, so
# a token cannot pick a shared-secret algorithm and be "verified" with a public key.
JwtAlgorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
]
# The Bastion roles a token may be mapped to (the same names as security.principal.ROLES).
BastionRole = Literal["admin", "operator", "approver", "reviewer", "client"]


class JwtSettings(Section):
    """Who issues the tokens, where their keys are, and how their claims become a principal.

    Keys come from ``jwks_file`` (a local JWKS document), ``jwks_url`` (fetched at start and
    again when a token names an unknown ``kid``, at most once per ``jwks_min_refresh_s``), or
    both (the file is the fallback when the URL cannot be fetched at start).
    """

    issuer: str = Field(min_length=1, description="the exact `iss` tokens must carry")
    audience: Annotated[tuple[str, ...], NoDecode] = Field(
        min_length=1, description="`aud` must hold one of these"
    )
    jwks_file: Path | None = None
    jwks_url: str | None = Field(None, pattern=r"^https?://\S+$")
    algorithms: Annotated[tuple[JwtAlgorithm, ...], NoDecode] = Field(
        ("RS256", "ES256"), min_length=1
    )
    leeway_s: float = Field(30.0, ge=0, le=600, description="clock skew allowed on exp/nbf/iat")
    roles_claim: str = Field("roles", min_length=1, description="a list or space-separated string")
    role_map: dict[str, tuple[BastionRole, ...]] = Field(
        default_factory=dict,
        description="IdP role → Bastion role(s); empty: IdP roles named like Bastion roles count",
    )
    subject_claim: str = Field("sub", min_length=1, description="becomes the principal's name")
    tenant_claim: str = Field("tenant", min_length=1)
    default_tenant: str | None = Field(
        "default",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description="tenant of a token without the claim; null: the claim is required",
    )
    team_claim: str | None = "team"
    deployments_claim: str | None = Field(
        None, description="claim listing the deployments a token may use (absent: all)"
    )
    deployments: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None, description="deployments every token is limited to (with the claim: both apply)"
    )
    cache_ttl_s: float = Field(60.0, ge=0, le=3600, description="a verified token is reused")
    cache_max_entries: int = Field(10_000, ge=1, le=1_000_000)
    max_token_bytes: int = Field(8192, ge=512, le=65_536)
    jwks_min_refresh_s: float = Field(30.0, ge=0, le=86_400)
    jwks_max_age_s: float = Field(3600.0, ge=1, description="refetch a JWKS URL this often")
    jwks_timeout_s: float = Field(5.0, gt=0, le=60)

    @field_validator("audience", "algorithms", "deployments", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """One value or a list; from the environment, one value or a JSON list."""
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("[") else (value,)
        return value

    @field_validator("role_map", mode="before")
    @classmethod
    def _roles_one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _has_keys(self) -> JwtSettings:
        if self.jwks_file is None and self.jwks_url is None:
            raise ValueError("security.jwt needs jwks_file or jwks_url (or both)")
        return self


class RefusalSettings(Section):
    """Refused requests: when an address or key prefix is slowed down, how many refusals are
    audited in full per window (beyond that they are counted in one summary record)."""

    window_s: float = Field(60.0, gt=0, le=3600)
    max_failures: int = Field(
        20, ge=1, description="failed authentications per address or key prefix per window"
    )
    audit_per_window: int = Field(
        100, ge=1, description="refusals audited one by one per window; the rest are counted"
    )
    max_tracked: int = Field(100_000, ge=100, description="addresses and prefixes remembered")
    remember_good_s: float = Field(
        3600.0, ge=0, description="a key that worked this recently is still checked when slowed"
    )


class SecuritySettings(Section):
    admin_key: SecretStr | None = None
    require_keys: bool = True
    jwt: JwtSettings | None = Field(None, description="accept JWTs from an identity provider")
    # Who manages objects shared by every tenant (``tenant: null``) besides admins, and whose
    # approvals count for them: key ids, or ``tenant:NAME`` for every key of a tenant.
    global_operators: Annotated[tuple[str, ...], NoDecode] = ("tenant:default",)
    global_approvers: Annotated[tuple[str, ...], NoDecode] = ("tenant:default",)
    refusals: RefusalSettings = RefusalSettings()

    @field_validator("global_operators", "global_approvers", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """One value, a JSON list, or a comma-separated list (from the environment)."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value
