"""Python function calls per request on the hot path: a count the machine's load cannot move.

CPU time per request (``bench/hot_path_inprocess.py``, ``bench/predict_inprocess.py``) is the
figure that matters, but on a shared 2-core machine it moves ±20 % between runs. The number
of Python-level function calls (``cProfile``'s count, C functions included) a request makes
is deterministic to within a few calls, so it shows whether a change removed work even when
the CPU figures cannot: ``PYTHONPATH=<checkout> python bench/calls_per_request.py chat|predict
[requests]``. It counts calls on every thread of the event loop's own (the audit and
prediction-log writer threads are not profiled), over ``requests`` after a warm-up; the top
functions by own time follow, for orientation only (cProfile's own overhead distorts time).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
from typing import Any

import orjson


async def _run(api: str, requests: int, upstream: str) -> tuple[float, str]:
    from bastion.app import app_from_environment
    from bastion.bootstrap import prepare
    from bastion.settings import load_settings

    if api == "chat":
        from bench import hot_path_inprocess as driver

        os.environ["BASTION_CONFIG"] = str(driver.bastion_config(upstream, only_issue3=False))
        drive: Any = driver._drive
    else:
        from bastion.demo.tabular import sample_inputs
        from bench import predict_inprocess as driver  # type: ignore[no-redef]

        body = orjson.dumps({"input": sample_inputs(1)[0]})
        drive = lambda app, state, n: driver._drive(app, state, body, n)  # noqa: E731
    os.environ["BASTION_DATA_DIR"] = tempfile.mkdtemp(prefix="bastion-calls-")
    os.environ["BASTION_ADMIN_KEY"] = driver.KEY
    os.environ["BASTION_LOGGING__LEVEL"] = "warning"
    await prepare(load_settings(), lambda *_: None)
    app = app_from_environment()
    async with app.router.lifespan_context(app) as state:
        await drive(app, state or {}, 300)  # warm-up: caches, memos, pools
        profile = cProfile.Profile()
        profile.enable()
        _, statuses = await drive(app, state or {}, requests)
        profile.disable()
        if set(statuses) != {200}:
            raise RuntimeError(f"not every answer was 200: {statuses}")
    stats = pstats.Stats(profile, stream=(out := io.StringIO()))
    calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(25)
    return calls / requests, out.getvalue()


def main(api: str = "chat", requests: int = 2000) -> str:
    import uvloop

    proc, upstream = None, ""
    if api == "chat":
        from bench.gateway_overhead import start_upstream

        proc, upstream = start_upstream(cpu=1)
    try:
        per_request, top = uvloop.run(_run(api, requests, upstream))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
    head = orjson.dumps({"api": api, "python_calls_per_request": round(per_request, 1)})
    return head.decode() + "\n" + top


if __name__ == "__main__":
    args = sys.argv[1:]
    print(main(args[0] if args else "chat", int(args[1]) if len(args) > 1 else 2000))
