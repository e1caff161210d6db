"""Every console route: path, handler, methods, and the roles it needs (admin holds all)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from bastion.console.pages import (
    costs,
    deployments,
    keys,
    login,
    monitoring,
    overview,
    requests,
    review,
)

OPERATOR = ("operator",)
QUEUE = ("reviewer", "approver")
ADMIN = ("admin",)

PAGES: list[tuple[str, Any, tuple[str, ...], tuple[str, ...]]] = [
    ("/", overview.show, ("GET",), ()),
    ("/deployments", deployments.index, ("GET",), OPERATOR),
    ("/deployments/{name}", deployments.show, ("GET",), OPERATOR),
    ("/deployments/{name}/promote", deployments.promote, ("POST",), OPERATOR),
    ("/deployments/{name}/rollback", deployments.rollback, ("POST",), OPERATOR),
    ("/requests", requests.index, ("GET",), OPERATOR),
    ("/requests/{request_id}", requests.show, ("GET",), OPERATOR),
    ("/costs", costs.show, ("GET",), ()),
    ("/monitoring", monitoring.index, ("GET",), OPERATOR),
    ("/monitoring/{name}", monitoring.show, ("GET",), OPERATOR),
    ("/review", review.index, ("GET",), QUEUE),
    ("/review/claim", review.claim_next, ("POST",), QUEUE),
    ("/review/{item_id}", review.show, ("GET",), QUEUE),
    ("/review/{item_id}/decide", review.decide, ("POST",), QUEUE),
    ("/review/{item_id}/release", review.release, ("POST",), QUEUE),
    ("/keys", keys.index, ("GET",), ADMIN),
    ("/keys/create", keys.create, ("POST",), ADMIN),
    ("/keys/{key_id}/revoke", keys.revoke, ("POST",), ADMIN),
]


def open_routes(env: Environment) -> list[tuple[str, Any, tuple[str, ...]]]:
    """The routes that work without a session: log in, log out."""
    return login.endpoints(env)
