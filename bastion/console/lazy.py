"""The console mounted at ``/console``, built on its first request.

Building it imports Jinja2, the pages and what they read (~4 MiB resident): a worker on
which nobody opens the console never pays for them."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class LazyConsole:
    """Pure ASGI: builds ``build_console()`` once, on the first call, then forwards to it."""

    __slots__ = ("_app",)

    def __init__(self) -> None:
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            from bastion.console.app import build_console

            app = self._app = build_console()
        await app(scope, receive, send)
