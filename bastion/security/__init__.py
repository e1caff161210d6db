"""Security: API keys (teams, rotation, expiry), IdP JWTs, principals and roles, authorization.

``JwtVerifier`` is imported from ``bastion.security.jwt_auth`` where JWTs are configured: PyJWT
and ``cryptography`` stay out of a server without them."""

from bastion.core.principal import ANONYMOUS, ROLES, Principal
from bastion.security.access import (
    require_deployment,
    require_own_role,
    require_roles,
    require_usable,
    tenant_scope,
)
from bastion.security.authenticator import Authenticator
from bastion.security.keys import ApiKey, KeyStore, hash_key
from bastion.security.stage import AuthStage

__all__ = [
    "ANONYMOUS",
    "ROLES",
    "ApiKey",
    "AuthStage",
    "Authenticator",
    "KeyStore",
    "Principal",
    "hash_key",
    "require_deployment",
    "require_own_role",
    "require_roles",
    "require_usable",
    "tenant_scope",
]
