"""Metrics: per-request counts, sampled gauges, multiprocess sums and the /metrics route."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from bastion.api import metrics as metrics_api
from bastion.api.middleware import RequestContext
from bastion.api.render import handle_bastion_error
from bastion.errors import BastionError
from bastion.observability.metrics import Metrics, fresh_multiprocess_dir
from bastion.observability.request_log import RequestRecord
from bastion.observability.sampling import RuntimeSampler
from bastion.resilience import Bulkhead, CircuitBreaker, FakeClock
from bastion.security import Authenticator
from bastion.settings import Settings
from bastion.settings.observability import ObservabilitySettings

ROOT = Path(__file__).resolve().parents[2]

BASE = RequestRecord(
    request_id="r1",
    api="predict",
    deployment="iris",
    requested="iris",
    version=3,
    model="iris",
    status=200,
    error_type=None,
    error_message=None,
    rate_limited=False,
    key_id="key_1",
    principal="ci",
    tenant="acme",
    total_s=0.004,
    queue_s=0.0001,
    backend_s=0.002,
    first_chunk_s=None,
    prompt_tokens=None,
    completion_tokens=None,
    cost_usd=None,
    cache=None,
    fallback=None,
    served_by=None,
    review=None,
    review_flags=0,
    stream=False,
    inputs=1,
    trace_id=None,
)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by (name, labels), parsed by prometheus_client."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text: str, metric: str, /, **labels: str) -> float:
    return samples(text).get((metric, frozenset(labels.items())), 0.0)


def exposition(metrics: Metrics) -> str:
    body, content_type = metrics.collect()
    assert content_type.startswith("text/plain")
    return body.decode()


def test_requests_latency_tokens_cost_cache_and_fallbacks_match_what_was_observed() -> None:
    m = Metrics()
    for _ in range(3):
        m.observe(BASE)
    m.observe(dataclasses.replace(BASE, status=422, error_type="invalid_request", backend_s=None))
    m.observe(
        dataclasses.replace(
            BASE,
            deployment="chat",
            version=1,
            prompt_tokens=10,
            completion_tokens=5,
            cost_usd=0.25,
            cache="miss",
            fallback="backup",
        )
    )
    m.observe(dataclasses.replace(BASE, deployment="chat", version=1, cache="hit"))
    m.observe(
        dataclasses.replace(
            BASE, status=429, error_type="rate_limited", rate_limited=True, version=None
        )
    )
    text = exposition(m)
    ok = {"deployment": "iris", "version": "3", "status": "200", "error_type": "none"}
    assert value(text, "bastion_requests_total", **ok) == 3
    bad = {**ok, "status": "422", "error_type": "invalid_request"}
    assert value(text, "bastion_requests_total", **bad) == 1
    limited = {**ok, "version": "none", "status": "429", "error_type": "rate_limited"}
    assert value(text, "bastion_requests_total", **limited) == 1
    assert value(text, "bastion_rate_limit_rejections_total", deployment="iris") == 1
    assert value(text, "bastion_request_duration_seconds_count", deployment="iris") == 5
    assert abs(value(text, "bastion_request_duration_seconds_sum", deployment="iris") - 0.02) < 1e-9
    assert value(text, "bastion_backend_duration_seconds_count", deployment="iris") == 4
    assert value(text, "bastion_queue_wait_seconds_count", deployment="iris") == 5
    assert value(text, "bastion_tokens_total", deployment="chat", kind="prompt") == 10
    assert value(text, "bastion_tokens_total", deployment="chat", kind="completion") == 5
    assert value(text, "bastion_cost_usd_total", deployment="chat") == 0.25
    assert value(text, "bastion_cache_lookups_total", deployment="chat", result="miss") == 1
    assert value(text, "bastion_cache_lookups_total", deployment="chat", result="hit") == 1
    assert value(text, "bastion_fallbacks_total", deployment="chat", to="backup") == 1
    le_5ms = {"deployment": "iris", "le": "0.005"}
    assert value(text, "bastion_request_duration_seconds_bucket", **le_5ms) == 5


def test_two_apps_in_one_process_never_collide() -> None:
    a, b = Metrics(), Metrics()
    a.observe(BASE)
    a.on_retry("chat", object())
    assert (
        value(
            exposition(b),
            "bastion_requests_total",
            deployment="iris",
            version="3",
            status="200",
            error_type="none",
        )
        == 0
    )
    assert value(exposition(a), "bastion_upstream_retries_total", group="chat") == 1


def test_other_concerns_set_review_backlog_and_drift_score() -> None:
    m = Metrics()
    m.review_backlog.labels(deployment="iris").set(7)
    m.drift_score.labels(deployment="iris", signal="_overall").set(0.25)
    text = exposition(m)
    assert value(text, "bastion_review_backlog", deployment="iris") == 7
    assert value(text, "bastion_drift_score", deployment="iris", signal="_overall") == 0.25


def test_openmetrics_is_served_when_asked() -> None:
    m = Metrics()
    m.observe(BASE)
    body, content_type = m.collect("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.decode().rstrip().endswith("# EOF")


class _Batcher:
    def __init__(self) -> None:
        self.batches = 0
        self.items = 0


def _runtime() -> tuple[Any, Any, CircuitBreaker, Bulkhead, _Batcher]:
    clock = FakeClock()
    breaker = CircuitBreaker("chat/0", min_calls=1, window_calls=2, open_s=5, clock=clock)
    member = SimpleNamespace(name="chat/0", breaker=breaker, bulkhead=Bulkhead(2, 4))
    group = SimpleNamespace(members=[member])
    gateway = SimpleNamespace(
        names=["chat"],
        target=lambda _: SimpleNamespace(bulkhead=Bulkhead(8, 8)),
        group=lambda _: group,
    )
    batcher = _Batcher()
    dep = SimpleNamespace(
        name="intent",
        bulkhead=member.bulkhead,
        current=SimpleNamespace(backend=batcher),
        pinned={2: SimpleNamespace(backend=object())},  # not a batcher: skipped
    )
    deployments = SimpleNamespace(all=lambda: [dep])
    return gateway, deployments, breaker, member.bulkhead, batcher


async def test_sampler_reads_breakers_queues_and_batch_counts_at_scrape_time() -> None:
    gateway, deployments, breaker, bulkhead, batcher = _runtime()
    m = Metrics()
    m.add_sampler(RuntimeSampler(m, gateway, deployments))
    m.sample()
    text = exposition(m)
    assert value(text, "bastion_breaker_state", group="chat", upstream="chat/0") == 0
    breaker.record_failure()  # min_calls 1: opens
    async with bulkhead.slot():
        batcher.batches, batcher.items = 3, 10
        m.sample()
        text = exposition(m)
    assert value(text, "bastion_breaker_state", group="chat", upstream="chat/0") == 2
    assert value(text, "bastion_in_flight", kind="upstream", name="chat/0") == 1
    assert value(text, "bastion_in_flight", kind="deployment", name="intent") == 1
    assert value(text, "bastion_queue_depth", kind="group", name="chat") == 0
    assert value(text, "bastion_batches_total", deployment="intent") == 3
    assert value(text, "bastion_batch_items_total", deployment="intent") == 10
    batcher.batches, batcher.items = 5, 11
    m.sample()
    m.sample()  # sampling twice never counts the same batches twice
    text = exposition(m)
    assert value(text, "bastion_batches_total", deployment="intent") == 5
    assert value(text, "bastion_batch_items_total", deployment="intent") == 11


def test_a_failing_sampler_does_not_break_the_scrape() -> None:
    m = Metrics()

    def broken() -> None:
        raise RuntimeError("boom")

    m.add_sampler(broken)
    m.sample()
    assert "bastion_requests" in exposition(m)


_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bastion.observability.metrics import Metrics
    from bastion.settings.observability import ObservabilitySettings
    from tests.observability.test_metrics import BASE
    m = Metrics(ObservabilitySettings(multiprocess_dir=Path(sys.argv[1])))
    for _ in range(int(sys.argv[2])):
        m.observe(BASE)
    m.queue_depth.labels("deployment", "iris").set(int(sys.argv[2]))
    if sys.argv[3] == "collect":
        sys.stdout.write(m.collect()[0].decode())
    """
)


def _worker(path: Path, n: int, action: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(path), str(n), action],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_multiprocess_mode_sums_counters_over_worker_processes(tmp_path: Path) -> None:
    path = fresh_multiprocess_dir(tmp_path)
    (path / "stale.db").write_bytes(b"")
    assert fresh_multiprocess_dir(tmp_path) == path and not any(path.iterdir())
    _worker(path, 3, "none")
    text = _worker(path, 4, "collect")
    ok = {"deployment": "iris", "version": "3", "status": "200", "error_type": "none"}
    assert value(text, "bastion_requests_total", **ok) == 7
    assert value(text, "bastion_request_duration_seconds_count", deployment="iris") == 7
    # livesum: only processes that did not leave cleanly count (both exited without aclose)
    assert value(text, "bastion_queue_depth", kind="deployment", name="iris") == 7


def _app(metrics: Metrics | None, require_key: bool = False) -> FastAPI:
    """The /metrics route with the error rendering of the real app, around given services."""
    settings = Settings(
        demo=False, observability=ObservabilitySettings(metrics_require_key=require_key)
    )
    svc = SimpleNamespace(
        settings=settings,
        metrics=metrics,
        authenticator=Authenticator(SimpleNamespace(), require_keys=True),  # type: ignore[arg-type]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"services": svc}

    app = FastAPI(lifespan=lifespan)
    app.include_router(metrics_api.router)
    app.add_exception_handler(BastionError, handle_bastion_error)
    app.add_middleware(RequestContext)
    return app


def test_metrics_route_serves_the_exposition_sampled_at_scrape_time() -> None:
    metrics = Metrics()
    metrics.observe(BASE)
    scrapes: list[int] = []
    metrics.add_sampler(lambda: scrapes.append(1))
    with TestClient(_app(metrics)) as client:
        r = client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        ok = {"deployment": "iris", "version": "3", "status": "200", "error_type": "none"}
        assert value(r.text, "bastion_requests_total", **ok) == 1
        assert scrapes == [1]
        r = client.get("/metrics", headers={"accept": "application/openmetrics-text"})
        assert r.headers["content-type"].startswith("application/openmetrics-text")


def test_metrics_route_can_require_a_key_and_says_when_metrics_are_off() -> None:
    with TestClient(_app(Metrics(), require_key=True)) as client:
        r = client.get("/metrics")
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    with TestClient(_app(None)) as client:
        r = client.get("/metrics")
        assert r.status_code == 404 and "metrics_enabled" in r.json()["error"]["message"]
