"""Two dispatcher processes on one outbox (PostgreSQL: SKIP LOCKED; SQLite: its write lock):
no action is sent by both, every action is delivered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bastion.actions.outbox import OutboxStore
from bastion.store import Database
from tests.actions.helpers import intents
from tests.actions.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_never_dispatch_the_same_action(
    database: Database, database_url: str
) -> None:
    receiver = Receiver().start()
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.actions.dispatch_proc",
                    database_url,
                    receiver.url,
                    w,
                ],
                env=env,
                cwd=ROOT,
            )
            for w in ("proc-a", "proc-b")
        ]
        await OutboxStore(database).insert(intents(400))  # both are polling by now, or soon
        for p in procs:
            assert p.wait(180) == 0
        assert len(receiver.accepted) == 400
        assert max(receiver.deliveries.values()) == 1  # no action was sent by both processes
        rows = await OutboxStore(database).browse(
            None, all_tenants=True, status=None, deployment=None, limit=1000
        )
        assert {r.status for r in rows} == {"done"}
    finally:
        receiver.close()
