"""The routers, mounts, error handlers and middleware of the ASGI app, in their order."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from bastion.api import actions as actions_api
from bastion.api import admin, admin_files, health, oip, openai_compat, predict, prompts_admin
from bastion.api import alerts as alerts_api
from bastion.api import artifacts as artifacts_api
from bastion.api import audit as audit_api
from bastion.api import backfill as backfill_api
from bastion.api import costs as costs_api
from bastion.api import data as data_api
from bastion.api import evaluation as evaluation_api
from bastion.api import features as features_api
from bastion.api import feedback as feedback_api
from bastion.api import jobs as jobs_api
from bastion.api import metrics as metrics_api
from bastion.api import openai_batch as openai_batch_api
from bastion.api import operations as operations_api
from bastion.api import quarantine as quarantine_api
from bastion.api import rag as rag_api
from bastion.api import review as review_api
from bastion.api import rollouts as rollouts_api
from bastion.api.edge import RequestEdge
from bastion.api.hot_routes import hot_routes
from bastion.api.render import (
    error_response,
    handle_bastion_error,
    handle_unexpected,
    request_id_of,
    wire_of,
)
from bastion.console import LazyConsole
from bastion.errors import BastionError, InvalidRequest, MalformedBody, NotFound
from bastion.settings import Settings


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
    err: BastionError
    if first.get("type") == "json_invalid":
        err = MalformedBody(f"request body is not valid JSON: {first['msg']}")
    else:
        err = InvalidRequest(f"{where}: {first['msg']}", details={"field": where})
    return error_response(err, request_id_of(request), wire=wire_of(request.url.path))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    rid, wire = request_id_of(request), wire_of(request.url.path)
    if exc.status_code == 404:
        err404 = NotFound(f"no route {request.method} {request.url.path}")
        return error_response(err404, rid, wire=wire)
    if exc.status_code == 405:
        err = InvalidRequest(f"method {request.method} is not allowed on {request.url.path}")
        resp = error_response(err, rid, wire=wire)
        resp.status_code = 405
        return resp
    generic = BastionError(str(exc.detail))
    resp = error_response(generic, rid, wire=wire)
    resp.status_code = exc.status_code
    return resp


async def _too_deep(request: Request, exc: Exception) -> Response:
    err = MalformedBody("request body is nested too deeply to parse; flatten it")
    return error_response(err, request_id_of(request), wire=wire_of(request.url.path))


async def _validation_handler(request: Request, exc: Exception) -> Response:
    return _validation_error(request, exc)


def mount(app: FastAPI, settings: Settings) -> None:
    """Every router and mount, the error handlers and the pure-ASGI middleware, in order."""
    for router in (predict.router, oip.router, openai_compat.router, admin.router, health.router):
        app.include_router(router)
    app.include_router(review_api.router)
    app.include_router(metrics_api.router)
    app.include_router(rollouts_api.router)
    app.include_router(alerts_api.router)
    app.include_router(audit_api.router)
    app.include_router(costs_api.router)
    app.include_router(feedback_api.router)
    app.include_router(evaluation_api.router)
    app.include_router(prompts_admin.router)
    app.include_router(operations_api.router)
    app.mount("/console", LazyConsole())  # the web console, built on its first request
    for data_layer in (jobs_api, quarantine_api, openai_batch_api, data_api, backfill_api,
                       features_api):  # fmt: skip
        app.include_router(data_layer.router)
    app.include_router(actions_api.router)
    app.include_router(actions_api.public)
    app.include_router(admin_files.router)
    app.include_router(rag_api.router)
    app.include_router(artifacts_api.router)
    app.include_router(rag_api.public)
    app.router.routes[0:0] = hot_routes()  # matched first; FastAPI's copies document them
    app.add_exception_handler(BastionError, handle_bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RecursionError, _too_deep)  # a JSON body nested too deep
    app.add_exception_handler(Exception, handle_unexpected)
    # Request id, then nosniff / no-store / CSP on /docs, then identity before the body
    # (refusals recorded), then the body limit: one ASGI pass (api/edge.py).
    app.add_middleware(
        RequestEdge,
        max_bytes=settings.limits.max_body_bytes,
        max_admin_bytes=settings.limits.max_admin_body_bytes,
        max_admin_json_bytes=settings.limits.max_admin_json_bytes,
    )
