"""``bastion serve --workers N``: uvicorn's supervisor, drained as one server.

On the first SIGTERM/SIGINT the supervisor writes a drain marker (a file of its own, named to
every worker through the config they are spawned with): from then on every worker's readiness
probe answers 503 while all of them keep serving. After ``drain_delay_s`` the supervisor sends
SIGTERM to each worker (uvicorn's own forwarding): each stops accepting, finishes its requests
within ``graceful_timeout_s`` and runs the app's shutdown. A second signal to the supervisor
skips what is left of the delay. Signal the supervisor only (a container's PID 1; systemd
``KillMode=mixed``): a worker signalled directly closes at once, as uvicorn's workers do.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from socket import socket
from types import FrameType
from typing import Any

import structlog
import uvicorn
from uvicorn.supervisors import Multiprocess

from bastion.api.drain import Drain, DrainGate
from bastion.core.orphans import die_with_parent

log = structlog.get_logger(__name__)

TICK_S = 0.1


class WorkerConfig(uvicorn.Config):
    """The config each worker loads its app with: the app behind a ``DrainGate`` that reads
    the supervisor's drain marker."""

    def __init__(self, app: Any, *, drain_marker: str, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.drain_marker = drain_marker
        self.supervisor_pid = os.getpid()

    def load(self) -> None:
        # In the worker: a supervisor killed outright (SIGKILL, OOM) takes its workers with it,
        # gracefully, instead of leaving them serving on the port as orphans.
        die_with_parent(signal.SIGTERM, self.supervisor_pid)
        super().load()
        if not isinstance(self.loaded_app, DrainGate):
            self.loaded_app = DrainGate.around(
                self.loaded_app, Drain(marker=Path(self.drain_marker))
            )


class DrainingWorkers(Multiprocess):
    """uvicorn's ``Multiprocess`` with the drain delay held across all workers."""

    def __init__(self, config: WorkerConfig, sockets: list[socket], drain_delay_s: float) -> None:
        super().__init__(config, sockets)
        self.marker = Path(config.drain_marker)
        self.drain_delay_s = drain_delay_s
        self._close_at: float | None = None
        self.marker.unlink(missing_ok=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop)

    def _on_stop(self, sig: int, frame: FrameType | None) -> None:
        if self._close_at is not None or self.drain_delay_s <= 0:
            self.should_exit.set()  # a second signal, or no delay: close now
            return
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(str(os.getpid()))
        self._close_at = time.monotonic() + self.drain_delay_s

    def run(self) -> None:
        log.info("workers_started", pid=os.getpid(), workers=self.processes_num)
        self.init_processes()
        try:
            while not self.should_exit.wait(TICK_S):
                if self._close_at is not None:
                    if time.monotonic() >= self._close_at:
                        self.should_exit.set()
                    continue  # draining: a worker that exits now is not replaced
                self.handle_signals()
                self.keep_subprocess_alive()
            self.terminate_all()
            self.join_all()
        finally:
            self.marker.unlink(missing_ok=True)
        log.info("workers_stopped", pid=os.getpid())
