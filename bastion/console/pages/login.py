"""Log in with an API key or an IdP JWT, and log out (the two routes open without a session)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.console.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    check_csrf,
    form,
    log_in,
    login_token,
    set_cookie,
)
from bastion.console.sessions import SESSION_TTL, SessionStore
from bastion.errors import BastionError
from bastion.services import Services


def _next(value: str | None) -> str:
    """Only a console path: never an open redirect."""
    if not value or not (value == "/console" or value.startswith("/console/")):
        return "/console/"
    if "//" in value or "\\" in value or ".." in value:
        return "/console/"
    return value


def _form(env: Environment, request: Request, error: str = "", status: int = 200) -> Response:
    token = login_token()
    html = env.get_template("login.html").render(
        csrf=token, next=_next(request.query_params.get("next")), error=error, request=request
    )
    response = HTMLResponse(html, status)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, 600)
    return response


def endpoints(env: Environment) -> list[tuple[str, Any, tuple[str, ...]]]:
    async def show(request: Request) -> Response:
        return _form(env, request)

    async def submit(request: Request) -> Response:
        svc: Services = request.scope["state"]["services"]
        sessions = SessionStore(svc.db, svc.keys)
        try:
            fields = await form(request)
            check_csrf(fields.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE, ""))
            session_id, _ = await log_in(svc, sessions, fields.get("credential", ""))
        except BastionError as exc:
            return _form(env, request, exc.message, int(exc.status))
        response = RedirectResponse(_next(fields.get("next")), status_code=303)
        set_cookie(response, request, COOKIE, session_id, int(SESSION_TTL.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
        return response

    async def logout(request: Request) -> Response:
        svc: Services = request.scope["state"]["services"]
        sessions = SessionStore(svc.db, svc.keys)
        session_id = request.cookies.get(COOKIE)
        session = await sessions.find(session_id)
        if session is not None:
            try:
                check_csrf((await form(request)).get("csrf"), session.csrf)
            except BastionError as exc:
                return HTMLResponse(exc.message, int(exc.status))
            await sessions.close(session_id)
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    return [
        ("/login", show, ("GET",)),
        ("/login", submit, ("POST",)),
        ("/logout", logout, ("POST",)),
    ]
