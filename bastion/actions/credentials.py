"""Credentials of destinations: read once at start from an env variable or a file.

Values are kept as ``SecretStr`` and only unwrapped where a request is built; error messages
name the variable or file, never the value.
"""

from __future__ import annotations

import os

from pydantic import SecretStr

from bastion.errors import ConfigError
from bastion.settings.actions import CredentialSettings


def resolve(cred: CredentialSettings, where: str) -> SecretStr:
    if cred.env is not None:
        value = os.environ.get(cred.env)
        if not value:
            raise ConfigError(f"{where}: environment variable {cred.env} is not set or empty")
        return SecretStr(value)
    assert cred.file is not None
    try:
        value = cred.file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{where}: cannot read credential file {cred.file}: {exc.strerror}"
        ) from exc
    if not value:
        raise ConfigError(f"{where}: credential file {cred.file} is empty")
    return SecretStr(value)


def auth_header(cred: CredentialSettings | None, where: str) -> dict[str, str]:
    """The header that carries a credential ({} without one)."""
    if cred is None:
        return {}
    secret = resolve(cred, where).get_secret_value()
    return {cred.header: f"{cred.scheme} {secret}".strip() if cred.scheme else secret}
