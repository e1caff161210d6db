"""The request path's edge in one coroutine: what ``ServerErrorMiddleware(RequestEdge(
ExceptionMiddleware(endpoint)))`` does for a POST to a serving route, with one ``send``
wrapper instead of four and no layer between the server's call and the endpoint.

``api/hot_stack.py`` composes those three layers (Starlette's two and ``api/edge.py``) around
a matched route's endpoint; each wrapped ``send`` in a closure of its own and added a frame
(and Starlette's a ``Request``) to every request. ``HotEdge`` does the same work in the same
order, answering exactly as they do:

- the request id is assigned, then the gatekeeper admits the caller (401/429 answered here,
  the body never read), then a declared Content-Length over ``max_bytes`` is a 413;
- the endpoint runs on a ``Request`` whose body is counted against ``max_bytes``; an exception
  with a handler (``BastionError``, validation, HTTP, ``RecursionError``; looked up along its
  MRO, an HTTP exception by status first) is answered by that handler, through the edge's
  ``send`` (request id, ``nosniff``), and is a ``RuntimeError`` once the response started;
- every answer that went through the edge (refusals included) is shown to the gatekeeper's
  recorder; an exception without a handler is answered by the 500 handler on the server's
  own ``send`` (no edge headers, as ``ServerErrorMiddleware`` sits outside the edge), unless
  the response had started, and is raised again for the server to log.

Only the serving routes come here: none is under ``/v1/admin/`` (no ``no-store``, the model
API's body limit) and none is a docs page (``hot_stack`` checks both at start-up).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from bastion.api.gatekeeper import admit, is_public, record_answer
from bastion.api.middleware import assign_request_id, counting, refused_by_length
from bastion.services import Services

Handler = Callable[[Request, Exception], Awaitable[Response | None]]

ROUTE_ENDPOINT = "endpoint"  # set by the dispatcher, as the router sets it
_NOSNIFF = (b"x-content-type-options", b"nosniff")


class HotEdge:
    """ASGI, for a scope whose ``ROUTE_ENDPOINT`` the dispatcher has set (see module doc)."""

    def __init__(
        self,
        *,
        max_bytes: int,
        handlers: Mapping[type[BaseException], Handler],
        status_handlers: Mapping[int, Handler],
        on_error: Handler,
    ) -> None:
        self._max_bytes = max_bytes
        self._handlers = dict(handlers)
        self._status_handlers = dict(status_handlers)
        self._on_error = on_error

    def _handler(self, exc: Exception) -> Handler | None:
        if isinstance(exc, HTTPException) and exc.status_code in self._status_handlers:
            return self._status_handlers[exc.status_code]
        for cls in type(exc).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        status = 0
        rid = b""

        async def edge_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = list(message.get("headers", ()))
                for name, _ in headers:
                    if name == b"x-content-type-options":
                        break
                else:
                    headers.append(_NOSNIFF)
                headers.append((b"x-request-id", rid))
                message["headers"] = headers
            await send(message)

        try:  # everything inside the server-error middleware's reach, as before
            rid = assign_request_id(scope)
            svc: Services | None = scope["state"].get("services")
            if (
                svc is not None
                and not is_public(scope["path"])
                and not await admit(scope, receive, edge_send, svc, svc.refusals)
            ):
                return  # answered 401 or 429: the body is never read
            limit = self._max_bytes
            if not await refused_by_length(scope, receive, edge_send, limit):
                body = counting(receive, limit)
                request = Request(scope, body, edge_send)
                try:
                    response = await scope[ROUTE_ENDPOINT](request)
                    await response(scope, body, edge_send)
                except Exception as exc:
                    handler = self._handler(exc)
                    if handler is None:
                        raise
                    if started:
                        raise RuntimeError(
                            "Caught handled exception, but response already started."
                        ) from exc
                    answer = await handler(request, exc)
                    if answer is not None:
                        await answer(scope, body, edge_send)
                    exc.__traceback__ = None  # a reused exception instance keeps no traceback
            if svc is not None:
                record_answer(scope, svc.refusals, status)
        except Exception as exc:
            response = await self._on_error(Request(scope), exc)
            if not started and response is not None:
                await response(scope, receive, send)
            raise exc


def handlers_of(exception_handlers: Mapping[Any, Any]) -> tuple[dict[Any, Any], dict[int, Any]]:
    """The class and status handlers ``ExceptionMiddleware`` would hold for these."""
    from starlette.middleware.exceptions import ExceptionMiddleware

    middleware = ExceptionMiddleware(_never, handlers=exception_handlers)
    return dict(middleware._exception_handlers), dict(middleware._status_handlers)


async def _never(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    raise AssertionError("only read for its handlers")
