"""Requests: search by id, deployment, status and time; one request's detail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from bastion.console import requests as found
from bastion.console.app import Page
from bastion.console.sql import int_param
from bastion.errors import InvalidRequest


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name}: expected a time like 2026-01-31T09:30") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def index(page: Page) -> Response:
    params = page.request.query_params
    status = params.get("status") or None
    if status not in (None, "ok", "error"):
        raise InvalidRequest("status: ok or error")
    q = found.Search(
        request_id=(params.get("request_id") or "").strip() or None,
        deployment=params.get("deployment") or None,
        status=status,
        since=_time(params.get("since"), "since"),
        until=_time(params.get("until"), "until"),
        before=int_param(params.get("before")),
    )
    records, next_before = await found.search(page.svc, page.principal, q)
    keep: dict[str, Any] = {k: v for k, v in params.items() if k not in ("before", "note") and v}
    deployments = [d.name for d in page.svc.deployments.all() if page.principal.can_use(d.name)]
    return page.render(
        "requests.html",
        active="requests",
        records=[r.to_json() for r in records],
        next_before=next_before,
        q=q,
        keep=keep,
        form=params,
        deployments=deployments,
    )


async def show(page: Page) -> Response:
    request_id = page.request.path_params["request_id"]
    story = await found.story(page.svc, page.principal, request_id)
    return page.render("request.html", active="requests", story=story)
