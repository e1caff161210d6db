"""The one check that a name given to an admin route is a deployment this server knows.

A deployment is known when it is configured (``deployments:``), served now (with no
deployments configured, every registered model with a ``production`` alias is one), a
registered model (when none are configured: it becomes one once promoted) or an LLM group.
An unknown name answers 404 naming it and the nearest name the caller may see, so a typo
never reads as an empty report or creates something that points at nothing.
"""

from __future__ import annotations

from bastion.errors import NotFound
from bastion.security import Principal
from bastion.services import Services
from bastion.settings.references import near


def _nearest(name: str, names: list[str]) -> str:
    """`` (did you mean 'x'?)``: the closest name by spelling, else one ``name`` is part of
    (``fraud`` → ``fraud-scorer``), else nothing."""
    close = near(name, names)
    if close:
        return close
    holding = [n for n in names if name.lower() in n.lower()]
    return f" (did you mean '{min(holding, key=len)}'?)" if holding and name else ""


def _served(svc: Services, name: str) -> bool:
    return name in svc.gateway or any(d.name == name for d in svc.deployments.all())


async def known_deployments(svc: Services, principal: Principal | None = None) -> list[str]:
    """Every deployment name ``principal`` may see (every one without a principal)."""

    def visible(owner: str | None) -> bool:
        return principal is None or svc.ownership.visible(principal, owner)

    names = {d.name for d in svc.settings.deployments}
    names |= {d.name for d in svc.deployments.all() if visible(svc.deployments.owner(d.name))}
    names |= set(svc.gateway.names)
    if not svc.settings.deployments:
        names |= {m.name for m in await svc.registry.list_models() if visible(m.tenant)}
    return sorted(names)


async def require_known(svc: Services, name: str, principal: Principal | None = None) -> None:
    """NotFound (404) unless ``name`` is a deployment this server knows (see the module);
    the message names the nearest of the names ``principal`` may see."""
    if _served(svc, name) or name in await known_deployments(svc):
        return
    names = await known_deployments(svc, principal)
    listed = ", ".join(names) if names else "none"
    raise NotFound(
        f"no deployment named '{name}'{_nearest(name, names)}; known deployments: {listed} "
        "(GET /v1/deployments lists those your key may use)",
        details={"deployment": name},
    )
