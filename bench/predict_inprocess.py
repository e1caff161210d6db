"""Issue 20, in-process, for ``predict``: the CPU one tabular prediction costs inside the ASGI app.

64 tasks call ``app(scope, receive, send)`` directly, as ``bench/hot_path_inprocess.py`` does
for chat completions: Bastion with every default on (the demo models, ``POST
/v1/deployments/breast-cancer/predict`` with one row), or the in-process floor — one
Starlette route that parses the body with orjson, calls the same ONNX backend
(``backend.infer([row])``) and answers with orjson: the least a Python server can do around
that model. The figure is this process's CPU time (every thread) per request:
``PYTHONPATH=<checkout> python -m bench.predict_inprocess bastion|floor [requests]`` (run it from
the checkout's own directory).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson

from bench.hot_path_inprocess import App, one_request

KEY = "bst_predict_inprocess_" + os.urandom(8).hex()
PATH = "/v1/deployments/breast-cancer/predict"


async def _drive(
    app: App, state: dict[str, Any], body: bytes, requests: int
) -> tuple[float, dict[int, int]]:
    statuses: dict[int, int] = {}
    todo = iter(range(requests))

    async def worker() -> None:
        for _ in todo:
            await one_request(app, state, statuses, body, PATH, KEY)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(64)))
    return (time.process_time() - started) / requests * 1e6, statuses


def floor_app() -> Any:
    """One Starlette route around the demo's ONNX backend, as ``bench/predict_overhead.py``
    calls it in process."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bastion.backends import create_backend
    from bastion.backends.base import ModelSpec
    from bastion.backends.resources import Resources
    from bastion.demo.tabular import train_breast_cancer

    trained = train_breast_cancer()
    path = Path(tempfile.mkdtemp()) / trained.artifact_name
    path.write_bytes(trained.artifact)
    spec = ModelSpec("breast-cancer", 1, trained.flavor, path, trained.signature, trained.params)
    backend = create_backend(spec, Resources())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await backend.load()
        yield

    async def predict(request: Request) -> Response:
        row = orjson.loads(await request.body())["input"]
        [prediction] = await backend.infer([row])
        return Response(orjson.dumps({"output": prediction.output}), media_type="application/json")

    return Starlette(routes=[Route(PATH, predict, methods=["POST"])], lifespan=lifespan)


async def _measure(kind: str, requests: int, rounds: int) -> list[float]:
    from bastion.demo.tabular import sample_inputs

    body = orjson.dumps({"input": sample_inputs(1)[0]})
    app: Any
    if kind == "floor":
        app = floor_app()
    else:
        os.environ["BASTION_DATA_DIR"] = tempfile.mkdtemp(prefix="bastion-predict-inprocess-")
        os.environ["BASTION_ADMIN_KEY"] = KEY
        os.environ["BASTION_LOGGING__LEVEL"] = "warning"
        from bastion.app import app_from_environment
        from bastion.bootstrap import prepare
        from bastion.settings import load_settings

        await prepare(load_settings(), lambda *_: None)
        app = app_from_environment()
    async with app.router.lifespan_context(app) as state:
        await _drive(app, state or {}, body, 300)  # warm-up
        out = []
        for _ in range(rounds):
            cpu_us, statuses = await _drive(app, state or {}, body, requests)
            if set(statuses) != {200}:
                raise RuntimeError(f"not every answer was 200: {statuses}")
            out.append(cpu_us)
        return out


def main(kind: str = "bastion", requests: int = 3000, rounds: int = 3) -> str:
    import uvloop

    got = uvloop.run(_measure(kind, requests, rounds))
    return orjson.dumps(
        {
            "kind": kind,
            "api": "predict",
            "cpu_us_per_request": [round(v) for v in got],
            "load": os.getloadavg(),
        }
    ).decode()


if __name__ == "__main__":
    args = sys.argv[1:]
    print(main(args[0] if args else "bastion", int(args[1]) if len(args) > 1 else 3000))
