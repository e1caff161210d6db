"""A server without Redis, JWTs, review webhooks, encryption, the screen's encoder, tracing,
model contracts or a console visitor configured never loads their libraries, and a server on
SQLite never loads SQLAlchemy's PostgreSQL dialect (~2 MiB; ``store/upsert.py``,
``store/tables.py``'s ``JSONDocument``).

Each costs resident memory in every worker (redis ~9 MiB, PyJWT with cryptography ~10,
httpx with its CLI's dependencies ~4, tokenizers ~6, jsonschema ~2, Jinja2 with the console's
pages ~2, the OpenTelemetry SDK ~0.5); they load where the setting, the contract or the first
request that needs them is met. The program runs what ``bastion serve`` runs before serving
(``prepare``) and then builds the app and its services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROGRAM = """
import asyncio, sys
from bastion.bootstrap import prepare
from bastion.settings import load_settings
from bastion.app import create_app
from bastion.wiring import build_services, close_services

settings = load_settings(data_dir=sys.argv[1], demo=False)

async def main():
    await prepare(settings, lambda line: None)
    create_app(settings)
    svc = await build_services(settings)
    await close_services(svc)

asyncio.run(main())
OPTIONAL = (
    "redis", "jwt", "httpx", "cryptography", "tokenizers",
    "jinja2", "jsonschema", "opentelemetry.sdk", "bastion.console.app",
    "sqlalchemy.dialects.postgresql",
)
print("loaded:", *sorted(m for m in OPTIONAL if m in sys.modules))
"""


def _python(program: str, *args: str) -> str:
    """``program``'s output, run by a fresh interpreter (nothing imported by the tests)."""
    done = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_default_server_loads_no_optional_client(tmp_path: Path) -> None:
    stdout = _python(PROGRAM, str(tmp_path / "data"))
    assert stdout.splitlines()[-1].split() == ["loaded:"]


STATISTICS = """
import sys
import numpy as np
from bastion.monitoring.stats import chi2_homogeneity, embedding_shift, ks_2samp
from bastion.routing.rollouts.analysis import chi_square_rates, two_proportion_z, welch

rng = np.random.default_rng(0)
ks_2samp(rng.normal(size=500), rng.normal(size=200))
chi2_homogeneity([50, 30, 20], [40, 35, 25])
embedding_shift(np.ones(4), rows=50, centroid=np.zeros(4), reference_rows=500, trace=4.0,
                trace_sq=4.0)
two_proportion_z(5, 100, 2, 100, alternative="greater")
chi_square_rates([5, 2, 3], [100, 100, 100])
welch((30, 1.0, 0.5), (40, 1.2, 0.4), metric="latency")
print("scipy" in sys.modules)
"""


def test_drift_and_rollout_statistics_never_load_scipy() -> None:
    """scipy.stats costs ~65 MiB resident: the drift tests and the canary and A/B tests of a
    server compute their p-values without it (core/distributions.py, monitoring/kolmogorov.py)."""
    assert _python(STATISTICS).split() == ["False"]


def test_the_serving_process_never_loads_pygments(tmp_path: Path) -> None:
    """``bastion serve`` imports structlog first, without ``rich.traceback``
    (``cli/structlog_import.py``): Pygments (~4 MiB) stays out of the serving process."""
    program = (
        "from bastion.cli.structlog_import import import_structlog_lean\n"
        "import_structlog_lean()\n"
        + PROGRAM
        + 'print("kept out:", "pygments" not in sys.modules, "rich.traceback" not in sys.modules)\n'
    )
    stdout = _python(program, str(tmp_path / "data"))
    assert stdout.splitlines()[-1].split() == ["kept", "out:", "True", "True"]
