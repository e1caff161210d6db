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

from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

_ROUTE = "bastion.hot_route"


class HotPathFirst:
    """ASGI: a POST matching one of ``routes`` runs through ``hot``; the rest through
    ``full``."""

    def __init__(self, full: ASGIApp, hot: ASGIApp, routes: Sequence[Route]) -> None:
        self._full = full
        self._hot = hot
        self._routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            for route in self._routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)  # endpoint and path_params, as the router sets them
                    scope[_ROUTE] = route
                    await self._hot(scope, receive, send)
                    return
        await self._full(scope, receive, send)


async def _matched(scope: Scope, receive: Receive, send: Send) -> None:
    """The matched route's endpoint, called as ``Route.handle`` would, without its layers:
    the method is known to match (``HotPathFirst`` only passes a POST the route takes), and
    the handled exceptions are caught once, by the ``ExceptionMiddleware`` just outside
    (Starlette's per-route copy of that wrapper, and its second ``Request``, are skipped)."""
    endpoint: Callable[[Request], Awaitable[Response]] = scope[_ROUTE].endpoint
    response = await endpoint(Request(scope, receive, send))
    await response(scope, receive, send)


def hot_stack(app: FastAPI, full: ASGIApp, routes: Sequence[Route]) -> ASGIApp:
    """``full`` (FastAPI's stack) behind a dispatcher that sends the request path's POSTs
    through the app's user middleware and exception handlers only (as FastAPI orders them:
    server errors outermost, then the user middleware, then the handled exceptions).

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
    hot: ASGIApp = ExceptionMiddleware(_matched, handlers=handlers, debug=app.debug)
    for middleware in reversed(app.user_middleware):
        cls, args, kwargs = middleware
        hot = cls(hot, *args, **kwargs)
    hot = ServerErrorMiddleware(hot, handler=error_handler, debug=app.debug)
    return HotPathFirst(full, hot, routes)
