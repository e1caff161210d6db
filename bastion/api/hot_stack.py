"""The request path's middleware stack: the app's own middleware and error handlers, and
nothing else between the server and a model-serving route.

FastAPI wraps every request in its exception-telemetry and body-limit middleware (both pass
through here: Bastion's telemetry is off and ``BodyLimit`` bounds bodies), an exit stack
for uploaded files, and a router that matches the path against every route of the app. A
POST to one of the routes of ``api/hot_routes.py`` needs none of them: it is matched here
against those six routes, and goes through the same error middleware, the same user
middleware (request id, security headers, gatekeeper, body limit) and the same exception
handlers as before, in the same order. Everything else goes to FastAPI's full stack.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bastion.api.edge import RequestEdge
from bastion.api.headers import DOCS
from bastion.api.hot_edge import HotEdge, handlers_of


class HotPathFirst:
    """ASGI: a POST matching one of ``routes`` runs through ``hot``; the rest through
    ``full``. A route without path parameters is found by one dict lookup, the others by
    their patterns, in order (a path two routes match goes to the first, as in a router)."""

    def __init__(self, full: ASGIApp, hot: ASGIApp, routes: Sequence[Route]) -> None:
        self.full = full
        self.hot = hot
        self._exact: dict[str, Route] = {}
        patterns: list[Route] = []
        for route in routes:
            if route.param_convertors or any(p.path_regex.match(route.path) for p in patterns):
                patterns.append(route)
            else:
                self._exact.setdefault(route.path, route)
        self._patterns = tuple(patterns)

    def matched(self, scope: Scope) -> bool:
        """Whether ``scope`` (an HTTP POST) is for one of the routes; if so, its endpoint and
        path parameters are set in it, as the router sets them."""
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        route = self._exact.get(path)
        if route is not None:
            scope["endpoint"] = route.endpoint
            scope["path_params"] = {}
            return True
        for route in self._patterns:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)  # endpoint and path_params
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.matched(scope):
            await self.hot(scope, receive, send)
            return
        await self.full(scope, receive, send)


async def _matched(scope: Scope, receive: Receive, send: Send) -> None:
    """The matched route's endpoint, called as ``Route.handle`` would, without its layers:
    the method is known to match (``HotPathFirst`` only passes a POST the route takes), and
    the handled exceptions are caught once, by the ``ExceptionMiddleware`` just outside
    (Starlette's per-route copy of that wrapper, and its second ``Request``, are skipped)."""
    endpoint: Callable[[Request], Awaitable[Response]] = scope["endpoint"]
    response = await endpoint(Request(scope, receive, send))
    await response(scope, receive, send)


def hot_stack(app: FastAPI, full: ASGIApp, routes: Sequence[Route]) -> HotPathFirst:
    """``full`` (FastAPI's stack) behind a dispatcher that sends the request path's POSTs
    through the app's user middleware and exception handlers only (as FastAPI orders them:
    server errors outermost, then the user middleware, then the handled exceptions). With
    Bastion's own middleware (``RequestEdge`` alone), not in debug mode and with async
    handlers, those three layers are one: ``api/hot_edge.py``.

    Each route's endpoint must be an ``async`` function of a ``Request`` (``_matched`` calls
    it directly); anything else is refused here, at start-up."""
    for route in routes:
        if not inspect.iscoroutinefunction(route.endpoint):
            raise TypeError(f"hot route {route.path}: the endpoint must be an async function")
    error_handler = None
    handlers = {}
    for key, value in app.exception_handlers.items():
        if key in (500, Exception):
            error_handler = value
        else:
            handlers[key] = value
    hot: ASGIApp | None = _fused(app, routes, handlers, error_handler)
    if hot is None:
        hot = ExceptionMiddleware(_matched, handlers=handlers, debug=app.debug)
        for middleware in reversed(app.user_middleware):
            cls, args, kwargs = middleware
            hot = cls(hot, *args, **kwargs)
        hot = ServerErrorMiddleware(hot, handler=error_handler, debug=app.debug)
    return HotPathFirst(full, hot, routes)


def _fused(
    app: FastAPI, routes: Sequence[Route], handlers: dict[Any, Any], error_handler: Any
) -> HotEdge | None:
    """The one-coroutine edge, where it answers exactly as the composed layers would."""
    if app.debug or error_handler is None or len(app.user_middleware) != 1:
        return None
    cls, args, kwargs = app.user_middleware[0]
    if cls is not RequestEdge or args:
        return None
    if any(r.path.startswith("/v1/admin/") or r.path in DOCS for r in routes):
        return None  # the admin API's limits and no-store, the docs' CSP: not in HotEdge
    classes, statuses = handlers_of(handlers)
    if not all(inspect.iscoroutinefunction(h) for h in (*classes.values(), *statuses.values())):
        return None
    if not inspect.iscoroutinefunction(error_handler):
        return None
    return HotEdge(
        max_bytes=kwargs["max_bytes"],
        handlers=classes,
        status_handlers=statuses,
        on_error=error_handler,
    )
