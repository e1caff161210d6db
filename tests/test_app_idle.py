"""An idle server does (almost) no work: the background loops ask the database only after a
commit, not several times a second (``store/changes.py``)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bastion.app import create_app
from bastion.settings import load_settings

IDLE_S = 4.0


def test_an_idle_server_runs_few_statements(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, demo=False))
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen[" ".join(statement.split())[:70]] += 1

    with TestClient(app):
        time.sleep(1.5)  # the loops' first rounds (their caches fill)
        event.listen(Engine, "before_cursor_execute", count)
        try:
            time.sleep(IDLE_S)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
    # Left: the job and batch claim loops (every 2 s: leases expire with time, not with a
    # commit), the review SLA sweep (5 s) and the alert rules (15 s). Before: about 12 a
    # second (alias revisions 9, canaries and the lease write 2, the rest).
    total = sum(seen.values())
    assert total <= 2.5 * IDLE_S, seen.most_common()
    assert not any(s.startswith(("UPDATE", "INSERT", "DELETE")) for s in seen), seen
