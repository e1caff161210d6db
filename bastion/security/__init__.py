"""Security: API keys, principals and roles, and the authenticate/authorize stage."""

from bastion.security.authenticator import Authenticator
from bastion.security.keys import ApiKey, KeyStore, hash_key
from bastion.security.principal import ANONYMOUS, ROLES, Principal
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
]
