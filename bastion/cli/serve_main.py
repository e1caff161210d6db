"""The serving process of ``bastion serve``: uvicorn and the app, without the command line.

``bastion serve`` (``cli/main.py``) reads its flags into the environment, checks the settings,
the secrets and the audit keys, prepares the data dir (migrations, demo models, first admin
key) and prints its banner in the ``bastion`` process, which holds Typer, Click and Rich
(~10 MiB resident that serving never uses). It then replaces itself with ``python -P -m
bastion.cli.serve_main`` (``os.execv``: the same process id, so signals, process managers
and the drain on SIGTERM see one process throughout), which builds the settings again from
that environment, as every worker of several always did, and serves. ``-P``: the working
directory is not put on the import path, so the Bastion that serves is the one that
prepared. Under several workers, each is spawned from this module, not from the command
line's, so they do not load Typer either.

Nothing is imported at the top: spawned workers import this module (as ``__mp_main__``)
before they import the app.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from bastion.settings import Settings

MODULE = "bastion.cli.serve_main"
APP = "bastion.app:app_from_environment"


def hand_over() -> NoReturn:
    """Replace this process with the serving one (on POSIX; elsewhere, serve from here)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name != "posix":  # pragma: no cover - no execv that keeps the process
        main()
        raise SystemExit(0)
    os.execv(sys.executable, [sys.executable, "-P", "-m", MODULE])


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    server = settings.server
    return {
        "factory": True,
        "host": server.host,
        "port": server.port,
        "workers": server.workers,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "none",  # no WebSocket routes: the websockets library (~1 MiB) stays out
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": int(server.graceful_timeout_s),
        "timeout_worker_healthcheck": server.worker_healthcheck_s,
        "ssl_certfile": str(server.ssl_certfile) if server.ssl_certfile else None,
        "ssl_keyfile": str(server.ssl_keyfile) if server.ssl_keyfile else None,
    }


def main() -> None:
    """Serve with the settings the environment gives (``bastion serve`` set it up)."""
    from bastion.cli.malloc import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread: ~10 MiB less per worker under load
    from bastion.cli.structlog_import import import_structlog_lean

    import_structlog_lean()  # before anything logs: Pygments stays out (~4 MiB per worker)
    import uvicorn

    from bastion.cli.server import run
    from bastion.settings import load_settings

    settings = load_settings()
    server = settings.server
    options = uvicorn_options(settings)
    if server.workers > 1:  # the supervisor's drain marker, which every worker's readiness reads
        from bastion.cli.workers import WorkerConfig

        marker = settings.data_dir.resolve() / "run" / f"drain-{server.port}"
        config: uvicorn.Config = WorkerConfig(APP, drain_marker=str(marker), **options)
    else:
        config = uvicorn.Config(APP, **options)
    run(config, server.drain_delay_s)  # readiness 503, drain delay, then graceful stop


if __name__ == "__main__":
    main()
