"""The authenticate + authorize stages of the request path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bastion.security.access import require_usable
from bastion.security.authenticator import Authenticator

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class AuthStage:
    """Resolve the caller's key and check it may use this deployment (another tenant's
    deployment is answered as absent: ``owner_of`` names a deployment's owning tenant).

    A call that arrives with its ``principal`` already set comes from inside the server (a
    batch job runs as the key that created it, re-read from the key store when it resumes):
    only the authorization check runs. HTTP adapters never set it.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        owner_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._auth = authenticator
        self._owner_of = owner_of or (lambda _name: None)

    async def __call__(self, call: Call, next: Next) -> Result:
        principal = call.principal
        if principal is None:
            principal = await self._auth.authenticate(call.headers.get("authorization"))
        call.principal = principal  # a refusal below is audited with who was refused
        require_usable(principal, call.deployment, self._owner_of(call.deployment))
        return await next(call)
