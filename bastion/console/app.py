"""The console's ASGI app, mounted at ``/console`` by ``create_app``: routes, errors, headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from bastion.console.auth import LoginRequired, Viewer, check_csrf, form, viewer
from bastion.console.headers import SecurityHeaders
from bastion.console.render import environment
from bastion.console.sessions import SessionStore
from bastion.errors import BastionError
from bastion.services import Services

log = structlog.get_logger(__name__)

NAV = (
    ("overview", "/console/", "Overview", ()),
    ("deployments", "/console/deployments", "Deployments", ("operator",)),
    ("requests", "/console/requests", "Requests", ("operator",)),
    ("costs", "/console/costs", "Costs", ()),
    ("monitoring", "/console/monitoring", "Monitoring", ("operator",)),
    ("review", "/console/review", "Review", ("reviewer", "approver")),
    ("keys", "/console/keys", "Keys & tenants", ("admin",)),
)


@dataclass(slots=True)
class Page:
    """What a page handler gets: the request, the services, who is looking, the templates."""

    request: Request
    svc: Services
    viewer: Viewer
    env: Environment

    @property
    def principal(self) -> Any:
        return self.viewer.principal

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        nav = [(k, href, label) for k, href, label, roles in NAV if self._may(roles)]
        html = self.env.get_template(template).render(
            viewer=self.viewer, nav=nav, request=self.request, **context
        )
        return HTMLResponse(html, status)

    def _may(self, roles: tuple[str, ...]) -> bool:
        return not roles or self.principal.has_any(*roles)

    async def form(self) -> dict[str, str]:
        """The posted form, once its CSRF token checked out."""
        fields = await form(self.request)
        check_csrf(fields.get("csrf"), self.viewer.csrf)
        return fields

    def back(self, path: str, note: str = "") -> RedirectResponse:
        """Post/redirect/get: after a change, show the page again (with a one-line note)."""
        target = path + (f"?note={quote(note)}" if note else "")
        return RedirectResponse(target, status_code=303)


Handler = Callable[[Page], Awaitable[Response]]


def sessions_of(svc: Services) -> SessionStore:
    return SessionStore(svc.db, svc.keys)


def page(env: Environment, handler: Handler, roles: tuple[str, ...] = ()) -> Any:
    """A console endpoint: the session, the roles, then ``handler``; errors as pages."""

    async def endpoint(request: Request) -> Response:
        svc: Services = request.scope["state"]["services"]
        try:
            who = await viewer(request, sessions_of(svc))
        except LoginRequired:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)
        except BastionError as exc:
            return error_page(env, request, exc, None)
        current = Page(request, svc, who, env)
        try:
            if roles:
                who.require(*roles)
            return await handler(current)
        except BastionError as exc:
            back = _referer(request)
            if request.method == "POST" and back and int(exc.status) < 500:
                # a refused form: the page it came from, with the reason (nothing changed)
                return RedirectResponse(f"{back}?error={quote(exc.message)}", status_code=303)
            return error_page(env, request, exc, who)

    return endpoint


def _referer(request: Request) -> str | None:
    """The console page a form was posted from (same origin, path only), if any."""
    referer = urlsplit(request.headers.get("referer", ""))
    same = referer.netloc == request.url.netloc
    if same and referer.path.startswith("/console/") and ".." not in referer.path:
        return referer.path
    return None


def error_page(
    env: Environment, request: Request, exc: BastionError, who: Viewer | None
) -> HTMLResponse:
    status = int(exc.status)
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    nav = [
        (k, href, label)
        for k, href, label, r in NAV
        if who and (not r or who.principal.has_any(*r))
    ]
    html = env.get_template("error.html").render(
        viewer=who, nav=nav, request=request, status=status, title=title, error=exc
    )
    return HTMLResponse(html, status)


def build_console() -> SecurityHeaders:
    """The console app; every response carries the security headers."""
    from bastion.console.pages import routes

    env = environment()
    static = StaticFiles(directory=str(resources.files("bastion.console") / "static"))
    table: list[BaseRoute] = [Mount("/static", static, name="static")]
    for path, handler, methods, roles in routes.PAGES:
        table.append(Route(path, page(env, handler, roles), methods=list(methods)))
    for path, endpoint, methods in routes.open_routes(env):
        table.append(Route(path, endpoint, methods=list(methods)))
    return SecurityHeaders(Router(table))
