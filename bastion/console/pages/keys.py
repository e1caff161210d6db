"""Keys and tenants (admins only): list, create, revoke, through the key store's rules."""

from __future__ import annotations

from collections import Counter

from starlette.responses import Response

from bastion.console.app import Page
from bastion.console.sql import PAGE_SIZE, int_param
from bastion.core.principal import ROLES
from bastion.errors import InvalidRequest
from bastion.store.tables import utcnow


async def index(page: Page) -> Response:
    params = page.request.query_params
    tenant = params.get("tenant") or None
    offset = max(0, int_param(params.get("offset"), 0) or 0)
    keys = await page.svc.keys.list(tenant=tenant)
    everyone = keys if tenant is None else await page.svc.keys.list()
    now = utcnow()
    tenants = Counter(k.tenant for k in everyone if k.active(now))
    return page.render(
        "keys.html",
        active="keys",
        keys=keys[offset : offset + PAGE_SIZE],
        offset=offset,
        more=offset + PAGE_SIZE < len(keys),
        tenants=sorted(tenants.items()),
        tenant=tenant or "",
        roles=ROLES,
        now=now,
        secret=None,
    )


async def create(page: Page) -> Response:
    fields = await page.form()
    roles = [r for r in ROLES if fields.get(f"role_{r}") == "on"]
    if not roles:
        raise InvalidRequest("roles: pick at least one role")
    deployments = [d.strip() for d in fields.get("deployments", "").split(",") if d.strip()]
    secret, key = await page.svc.keys.create(
        fields.get("name", "").strip(),
        roles,
        deployments=deployments or None,
        tenant=fields.get("tenant", "").strip() or "default",
        team=fields.get("team", "").strip() or None,
    )
    if page.svc.audit is not None:
        details = {"name": key.name, "roles": list(key.roles), "tenant": key.tenant}
        await page.svc.audit.admin(page.principal, "key.created", key.id, details)
    keys = await page.svc.keys.list()
    now = utcnow()
    return page.render(
        "keys.html",
        status=201,
        active="keys",
        keys=keys[:PAGE_SIZE],
        offset=0,
        more=len(keys) > PAGE_SIZE,
        tenants=sorted(Counter(k.tenant for k in keys if k.active(now)).items()),
        tenant="",
        roles=ROLES,
        now=now,
        secret=(key, secret),
    )


async def revoke(page: Page) -> Response:
    key_id = page.request.path_params["key_id"]
    await page.form()
    await page.svc.keys.revoke(key_id)
    page.svc.authenticator.forget()
    if page.svc.audit is not None:
        await page.svc.audit.admin(page.principal, "key.revoked", key_id, {})
    return page.back("/console/keys", f"key {key_id} revoked")
