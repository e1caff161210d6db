"""The uvicorn server ``bastion serve`` runs: a drain delay before the listener closes, and a
shutdown cut the app can tell from a client going away (see ``bastion.api.drain``)."""

from __future__ import annotations

import asyncio
import time
from types import FrameType
from typing import Any

import uvicorn

from bastion.api.drain import Drain, DrainGate
from bastion.core.shutdown import CUT_BY_SHUTDOWN


class DrainingServer(uvicorn.Server):
    """On the first SIGTERM/SIGINT: readiness answers 503 at once, the listener stays open
    for ``drain_delay_s``, then uvicorn's graceful shutdown runs; requests still running after
    its timeout are cancelled with ``CUT_BY_SHUTDOWN``. A second signal exits at once."""

    def __init__(self, config: uvicorn.Config, drain_delay_s: float) -> None:
        super().__init__(config)
        self.drain = Drain()
        self.drain_delay_s = drain_delay_s
        self._exit_at: float | None = None
        self._signal: tuple[int, FrameType | None] | None = None

    async def startup(self, sockets: Any = None) -> None:
        self.config.loaded_app = DrainGate.around(self.config.loaded_app, self.drain)
        await super().startup(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain.started or self.drain_delay_s <= 0:
            self.drain.started = True
            super().handle_exit(sig, frame)
            return
        self.drain.started = True
        self._signal = (sig, frame)
        self._exit_at = time.monotonic() + self.drain_delay_s

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self._exit_at = None
            assert self._signal is not None
            super().handle_exit(*self._signal)
        return await super().on_tick(counter)

    async def _wait_tasks_to_complete(self) -> None:
        try:
            await super()._wait_tasks_to_complete()
        except asyncio.CancelledError:  # the graceful timeout: cut what still runs, marked
            running = list(self.server_state.tasks)
            self.server_state.tasks.clear()  # so that uvicorn does not cancel them again
            for task in running:
                task.cancel(msg=CUT_BY_SHUTDOWN)
            raise


def run(config: uvicorn.Config, drain_delay_s: float) -> None:
    """One worker: the draining server. Several (a ``WorkerConfig``): uvicorn's supervisor,
    which turns every worker not-ready for the drain delay before it stops them
    (``bastion.cli.workers``); a request cut at the graceful timeout in a worker is recorded
    as ``cancelled``, not ``shutting_down``."""
    if config.workers > 1:
        from bastion.cli.workers import DrainingWorkers, WorkerConfig

        assert isinstance(config, WorkerConfig)
        DrainingWorkers(config, [config.bind_socket()], drain_delay_s).run()
    else:
        DrainingServer(config, drain_delay_s).run()
