"""The review queue: list, claim, see input/output/confidence, decide (approve, correct with
what the reviewer knows, reject, escalate), release. Every action is the review service's."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.responses import Response

from bastion.console.app import Page
from bastion.console.sql import PAGE_SIZE
from bastion.errors import InvalidRequest, NotFound
from bastion.review import ReviewService
from bastion.review.entities import ACTIONS, Action

STATUSES = ("pending", "approved", "corrected", "rejected", "overridden")


def _review(page: Page) -> ReviewService:
    return page.svc.review


async def index(page: Page) -> Response:
    params = page.request.query_params
    status = params.get("status") if params.get("status") in STATUSES else "pending"
    deployment = params.get("deployment") or None
    items = await _review(page).browse(
        page.principal, status=status, deployment=deployment, limit=PAGE_SIZE
    )
    return page.render(
        "review.html",
        active="review",
        items=items,
        shown=status,
        statuses=STATUSES,
        deployment=deployment or "",
    )


async def claim_next(page: Page) -> Response:
    fields = await page.form()
    try:
        item = await _review(page).claim(None, page.principal, fields.get("deployment") or None)
    except NotFound as exc:
        return page.back("/console/review", exc.message)
    return page.back(f"/console/review/{item['id']}")


async def show(page: Page) -> Response:
    item_id = page.request.path_params["item_id"]
    item = await _review(page).show(item_id, page.principal)
    mine = item["claimed_by"] == page.principal.name
    return page.render(
        "review_item.html",
        active="review",
        item=item,
        mine=mine,
        labels=_labels(page, item["deployment"]),
    )


def _labels(page: Page, deployment: str) -> list[str]:
    """The classes a classifier's output contract names (the correction is a pick)."""
    with contextlib.suppress(NotFound):
        live = page.svc.deployments.get(deployment).current
        schema = live.contract.output_schema if live else None
        label = (schema or {}).get("properties", {}).get("label", {})
        enum = label.get("enum") if isinstance(label, dict) else None
        if isinstance(enum, list):
            return [str(c) for c in enum]
    return []


def correction(fields: dict[str, str]) -> Any:
    """What the reviewer gave: a picked label, or a value (JSON, else the text itself)."""
    if fields.get("label"):
        return fields["label"]
    raw = fields.get("output", "").strip()
    if not raw:
        raise InvalidRequest("output: pick the right label or type the right output")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


async def decide(page: Page) -> Response:
    item_id = page.request.path_params["item_id"]
    fields = await page.form()
    chosen: dict[str, Action] = {a: a for a in ACTIONS}
    action = chosen.get(fields.get("action", ""))
    if action is None:
        raise InvalidRequest("action: approve, correct, reject or escalate")
    output = correction(fields) if action == "correct" else None
    done = await _review(page).decide(
        item_id, page.principal, action, output, fields.get("reason", "")[:2000]
    )
    return page.back(f"/console/review/{item_id}", f"{action}: item is now {done['status']}")


async def release(page: Page) -> Response:
    item_id = page.request.path_params["item_id"]
    await page.form()
    await _review(page).release(item_id, page.principal)
    return page.back("/console/review", "released")
