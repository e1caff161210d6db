"""Deployments and the registry: versions, aliases, history, eval reports; promote and roll
back through the admin API's own functions (the same gates, approvals and audit)."""

from __future__ import annotations

from starlette.responses import Response

from bastion.api.admin import PromoteBody, RollbackBody, promote_version, rollback_alias
from bastion.console.app import Page
from bastion.console.sql import int_param
from bastion.errors import InvalidRequest, NotFound

VERSIONS_PER_PAGE = 20
HISTORY_PER_PAGE = 20


async def index(page: Page) -> Response:
    p = page.principal
    models = [m for m in await page.svc.registry.list_models() if p.can_use(m.name)]
    live = {d.name: d.status() for d in page.svc.deployments.all() if p.can_use(d.name)}
    return page.render("deployments.html", active="deployments", models=models, live=live)


async def show(page: Page) -> Response:
    name = page.request.path_params["name"]
    if not page.principal.can_use(name):
        raise NotFound(f"no model named '{name}'")
    registry = page.svc.registry
    versions = await registry.list_versions(name)  # NotFound names the models
    versions.sort(key=lambda v: v.version, reverse=True)
    offset = max(0, int_param(page.request.query_params.get("offset"), 0) or 0)
    history = await registry.alias_history(name)
    history.sort(key=lambda e: e.id, reverse=True)
    hoffset = max(0, int_param(page.request.query_params.get("hoffset"), 0) or 0)
    reports = await page.svc.evaluation.reports.list_reports(name, None, limit=20)
    live = next((d.status() for d in page.svc.deployments.all() if d.name == name), None)
    return page.render(
        "deployment.html",
        active="deployments",
        name=name,
        aliases=await registry.aliases(name),
        versions=versions[offset : offset + VERSIONS_PER_PAGE],
        all_versions=[v.version for v in versions],
        offset=offset,
        more=offset + VERSIONS_PER_PAGE < len(versions),
        history=history[hoffset : hoffset + HISTORY_PER_PAGE],
        hoffset=hoffset,
        hmore=hoffset + HISTORY_PER_PAGE < len(history),
        reports=reports,
        live=live,
    )


def _reason(fields: dict[str, str]) -> str:
    return fields.get("reason", "").strip()[:2000]


async def promote(page: Page) -> Response:
    name = page.request.path_params["name"]
    fields = await page.form()
    version = int_param(fields.get("version"))
    if version is None or version < 1:
        raise InvalidRequest("version: pick the version to promote", details={"field": "version"})
    body = PromoteBody(
        version=version,
        alias=fields.get("alias", "production").strip() or "production",
        reason=_reason(fields),
        override=fields.get("override") == "on",
    )
    event, _ = await promote_version(page.svc, page.principal, name, body)
    note = f"{name}: {event.alias} → v{event.version} (was v{event.previous_version})"
    return page.back(f"/console/deployments/{name}", note)


async def rollback(page: Page) -> Response:
    name = page.request.path_params["name"]
    fields = await page.form()
    alias = fields.get("alias", "production").strip() or "production"
    body = RollbackBody(alias=alias, reason=_reason(fields))
    event = await rollback_alias(page.svc, page.principal, name, body)
    note = f"{name}: {event.alias} rolled back to v{event.version} (was v{event.previous_version})"
    return page.back(f"/console/deployments/{name}", note)
