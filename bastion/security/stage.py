"""The authenticate + authorize stages of the request path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.security.access import require_deployment
from bastion.security.authenticator import Authenticator

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


class AuthStage:
    """Resolve the caller's key and check it may use this deployment.

    A call that arrives with its ``principal`` already set comes from inside the server (a
    batch job runs as the key that created it, re-read from the key store when it resumes):
    only the authorization check runs. HTTP adapters never set it.
    """

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    async def __call__(self, call: Call, next: Next) -> Result:
        principal = call.principal
        if principal is None:
            principal = await self._auth.authenticate(call.headers.get("authorization"))
        require_deployment(principal, call.deployment)
        call.principal = principal
        return await next(call)
