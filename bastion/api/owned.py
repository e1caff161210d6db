"""Ownership checks for the admin routes: look up an object's owning tenant, then answer
another tenant's object as absent (404) and a shared one the caller may not manage as 403.

The rules themselves are ``bastion.core.ownership``; this module only finds the owners of
models and deployments (a deployment belongs to its model's owner; an LLM group, configured
for the whole server, is shared).
"""

from __future__ import annotations

from bastion.errors import NotFound
from bastion.security import Principal
from bastion.services import Services


async def model_owner(svc: Services, principal: Principal, name: str) -> str | None:
    """The owner of a model ``principal`` may see; NotFound for an absent or foreign one."""
    owner = await svc.registry.owner(name)
    svc.ownership.require_visible(principal, owner, f"model named '{name}'")
    return owner


async def changeable_model(svc: Services, principal: Principal, name: str) -> str | None:
    """The owner of a model ``principal`` may change (404 foreign, 403 shared and not ours)."""
    owner = await svc.registry.owner(name)
    svc.ownership.require_change(principal, owner, f"model named '{name}'")
    return owner


def deployment_model(svc: Services, name: str) -> str | None:
    """The model a deployment serves, or None for an LLM group (or an unknown name)."""
    for dep in svc.deployments.all():
        if dep.name == name:
            return dep.settings.model_name
    return None


async def deployment_owner(
    svc: Services, principal: Principal, name: str, *, change: bool = False
) -> str | None:
    """The owner of deployment ``name`` as ``principal`` may see (or, with ``change``,
    manage) it. Unknown names pass through: the route's own lookup answers them."""
    model = deployment_model(svc, name)
    if model is None:
        if change and name in svc.gateway:
            svc.ownership.require_change(principal, None, f"deployment named '{name}'")
        return None
    try:
        owner = await svc.registry.owner(model)
    except NotFound:
        return None
    what = f"deployment named '{name}'"
    if change:
        svc.ownership.require_change(principal, owner, what)
    else:
        svc.ownership.require_visible(principal, owner, what)
    return owner
