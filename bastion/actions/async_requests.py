"""``POST …/predict?async=true``: answer 202 with an id at once, run the call in the
background, keep its result for ``GET /v1/predictions/{id}`` and, when asked, POST it to a
signed callback (``?callback=URL``, allowed only under ``actions.callback_prefixes``).

The request is recorded before the 202 leaves; its run lives in the serving process, so a
process that dies mid-run leaves it ``running`` (the client can tell, and send it again with the
same ``x-request-id``: its actions are not repeated).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import structlog
from sqlalchemy import update

from bastion.actions import signing
from bastion.actions.credentials import resolve
from bastion.errors import BastionError, InvalidRequest, NotFound
from bastion.pipeline import Call, Next
from bastion.settings.actions import ActionsSettings
from bastion.store import Database
from bastion.store.actions_tables import AsyncRequestRow
from bastion.store.tables import utcnow

log = structlog.get_logger(__name__)

Render = Callable[[Call, Any], dict[str, Any]]


class AsyncRequests:
    def __init__(self, settings: ActionsSettings, db: Database) -> None:
        self._db = db
        self._prefixes = tuple(settings.callback_prefixes)
        self._secret = (
            resolve(settings.callback_secret, "actions.callback_secret").get_secret_value()
            if settings.callback_secret is not None
            else None
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def check_callback(self, url: str | None) -> None:
        if url is not None and not any(url.startswith(p) for p in self._prefixes):
            raise InvalidRequest(
                "callback: this URL is not allowed; ask an admin to list its prefix in "
                "actions.callback_prefixes",
                details={"field": "callback"},
            )

    async def submit(
        self, call: Call, pipeline: Next, render: Render, callback: str | None
    ) -> None:
        """Record the request (committed before returning), then run it in the background."""
        self.check_callback(callback)
        async with self._db.session() as session:
            session.add(
                AsyncRequestRow(
                    id=call.request_id,
                    tenant=getattr(call.principal, "tenant", None),
                    deployment=call.deployment,
                    status="running",
                    callback=callback,
                    created_at=utcnow(),
                )
            )
            await session.commit()
        task = asyncio.get_running_loop().create_task(self._run(call, pipeline, render, callback))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, call: Call, pipeline: Next, render: Render, callback: str | None) -> None:
        try:
            result = await pipeline(call)
            body, status = render(call, result), "done"
        except BastionError as exc:
            body = {"id": call.request_id, "error": {"type": exc.type, "message": exc.message}}
            status = "error"
        except Exception:  # a background task: nobody else would see it
            log.exception("async_predict_failed", request_id=call.request_id)
            body = {"id": call.request_id, "error": {"type": "internal_error", "message": "bug"}}
            status = "error"
        async with self._db.session() as session:
            await session.execute(
                update(AsyncRequestRow)
                .where(AsyncRequestRow.id == call.request_id)
                .values(status=status, result=body, finished_at=utcnow())
            )
            await session.commit()
        if callback is not None:
            await self._call_back(callback, call.request_id, body)

    async def _call_back(self, url: str, request_id: str, body: dict[str, Any]) -> None:
        raw = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
        headers = {"content-type": "application/json"}
        for attempt in range(5):
            if self._secret is not None:
                headers.update(signing.sign(self._secret, raw, request_id))
            try:
                async with (
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
                    http.post(url, data=raw, headers=headers) as response,
                ):
                    if response.status < 500:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5 * 2**attempt)
        log.warning("async_callback_failed", request_id=request_id)

    async def get(self, request_id: str, principal: Any) -> dict[str, Any]:
        async with self._db.session() as session:
            row = await session.get(AsyncRequestRow, request_id)
        if row is None or not principal.sees_tenant(row.tenant or ""):
            raise NotFound(f"no asynchronous request '{request_id}'")
        out: dict[str, Any] = {"id": row.id, "status": row.status, "deployment": row.deployment}
        if row.result is not None:
            out["result"] = row.result
        return out

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10.0)
