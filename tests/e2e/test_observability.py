"""Logs, metrics and traces through a real server: the numbers match the traffic sent."""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

FAST = {"connect": 0.5, "first_token": 1.0, "idle": 1.0, "total": 4.0}
MESSAGES = [{"role": "user", "content": "hello there"}]
Labels = frozenset[tuple[str, str]]


# -- the edges of the world: an OpenTelemetry collector ---------------------------------------


@dataclass
class OtlpReceiver:
    """A fake collector: OTLP/HTTP protobuf on 127.0.0.1, spans kept as plain dicts."""

    spans: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        found = [
            {
                "name": s.name,
                "trace_id": s.trace_id.hex(),
                "span_id": s.span_id.hex(),
                "parent": s.parent_span_id.hex(),
                "kind": s.kind,
                "status": s.status.code,
                "attributes": {a.key: _value(a.value) for a in s.attributes},
            }
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]
        with self.changed:
            self.spans.extend(found)
            self.changed.notify_all()

    def wait_for(self, trace_id: str, names: set[str], timeout: float = 20) -> dict[str, Any]:
        """The spans of ``trace_id`` by name, once all of ``names`` have arrived."""

        def ready() -> bool:
            return names <= {s["name"] for s in self.spans if s["trace_id"] == trace_id}

        with self.changed:
            assert self.changed.wait_for(ready, timeout), f"spans never came: {self.spans}"
            return {s["name"]: s for s in self.spans if s["trace_id"] == trace_id}


def _value(v: Any) -> Any:
    return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    rec = OtlpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            rec.add(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1/traces"
    yield rec
    httpd.shutdown()
    thread.join(5)


# -- the server under test ------------------------------------------------------------------


def _config(base_url: str, **extra: Any) -> dict[str, Any]:
    def group(name: str, **more: Any) -> dict[str, Any]:
        upstream = {
            "name": f"{name}-up",
            "base_url": base_url,
            "model": f"m-{name}",
            "timeouts": FAST,
            "input_price_per_1m": 1.0,
            "output_price_per_1m": 2.0,
        }
        return {"name": name, "upstreams": [upstream], **more}

    return {
        "llm": {
            "default_deadline_s": 10,
            "retry": {"max_attempts": 3, "base_backoff_s": 0.01, "max_backoff_s": 0.05},
            "breaker": {"min_calls": 2, "window_calls": 4, "failure_rate": 0.5, "open_s": 60},
            "groups": [
                group("obs-ok"),
                group("obs-retry"),
                group("obs-backup"),
                group("obs-down", fallbacks=["obs-backup"]),
                group("obs-cached", cache={"mode": "deterministic", "ttl_s": 60}),
                group("obs-solo"),
            ],
        },
        **extra,
    }


@dataclass
class Observed:
    server: Server
    upstream: FaultUpstream
    receiver: OtlpReceiver
    log_path: Path

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.server.url + "/v1", api_key=self.server.admin_key, max_retries=0
        )

    def lines(self, prefix: str) -> dict[str, list[dict[str, Any]]]:
        """request_completed lines whose request id starts with ``prefix``, by request id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for raw in self.log_path.read_bytes().splitlines():
            line = orjson.loads(raw)
            rid = str(line.get("request_id", ""))
            if line.get("event") == "request_completed" and rid.startswith(prefix):
                out.setdefault(rid, []).append(line)
        return out


@pytest.fixture(scope="module")
def observed(
    tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver
) -> Iterator[Observed]:
    root = tmp_path_factory.mktemp("observed")
    log_path = root / "bastion.jsonl"
    with running_upstream() as upstream:
        cfg = root / "bastion.yaml"
        echo = {"name": "echo", "input_schema": {"type": "integer"}, "batching": {"enabled": True}}
        cfg.write_text(yaml.safe_dump(_config(upstream.base_url, demo=False, deployments=[echo])))
        server = make_server(
            root / "data",
            BASTION_CONFIG=str(cfg),
            BASTION_OBSERVABILITY__LOG_FORMAT="json",
            BASTION_OBSERVABILITY__LOG_SINK=str(log_path),
            BASTION_OBSERVABILITY__OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY="50",  # the batch processor exports every 50 ms
        )
        server.start()
        try:
            _serve_echo(server)
            yield Observed(server, upstream, receiver, log_path)
        finally:
            server.stop()


def _serve_echo(server: Server) -> None:
    """Register ``tests.fakes:echo`` (in-process, micro-batched by the config) and serve it."""
    body = {"flavor": "python", "params": {"entry_point": "tests.fakes:echo"}}
    assert server.post("/v1/admin/models/echo/versions", json=body).status_code == 201
    r = server.post("/v1/admin/models/echo/promote", json={"version": 1})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 20
    while server.get("/v1/deployments/echo").json().get("ready") is not True:
        assert time.monotonic() < deadline, "echo never became ready"
        time.sleep(0.05)


def scrape(server: Server) -> dict[tuple[str, Labels], float]:
    with httpx.Client() as client:  # a new connection: any worker may answer
        r = client.get(server.url + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def key(metric: str, /, **labels: str) -> tuple[str, Labels]:
    return metric, frozenset(labels.items())


def delta(
    before: dict[tuple[str, Labels], float], after: dict[tuple[str, Labels], float]
) -> Callable[..., float]:
    def get(metric: str, /, **labels: str) -> float:
        k = key(metric, **labels)
        return after.get(k, 0.0) - before.get(k, 0.0)

    return get


def _post(server: Server, path: str, rid: str, auth: bool = True, **kw: Any) -> httpx.Response:
    headers = {**(server.auth if auth else {}), "x-request-id": rid}
    return httpx.post(server.url + path, headers=headers, timeout=30, **kw)


# -- the tests ------------------------------------------------------------------------------


def test_in_process_traffic_matches_the_metrics_and_the_log_lines(observed: Observed) -> None:
    server = observed.server
    predict = "/v1/deployments/echo/predict"
    before = scrape(server)
    ok = [_post(server, predict, f"obs-ok-{i}", json={"input": i}) for i in range(4)]
    ok.append(_post(server, predict, "obs-ok-4", json={"inputs": [7, 8, 9]}))
    assert all(r.status_code == 200 for r in ok), ok[0].text
    secret = "my card is 4111 1111 1111 1111"
    assert _post(server, predict, "obs-422", json={"input": secret}).status_code == 422
    unknown = _post(server, "/v1/deployments/no-such-model/predict", "obs-404", json={"input": 1})
    assert unknown.status_code == 404

    d = delta(before, scrape(server))
    requests = "bastion_requests_total"
    assert d(requests, deployment="echo", version="1", status="200", error_type="none") == 5
    assert (
        d(requests, deployment="echo", version="1", status="422", error_type="invalid_request") == 1
    )
    assert (
        d(requests, deployment="_unknown", version="none", status="404", error_type="not_found")
        == 1
    )
    assert d("bastion_request_duration_seconds_count", deployment="echo") == 6
    assert d("bastion_backend_duration_seconds_count", deployment="echo") == 5
    assert d("bastion_queue_wait_seconds_count", deployment="echo") == 6
    assert d("bastion_batch_items_total", deployment="echo") == 7
    assert 1 <= d("bastion_batches_total", deployment="echo") <= 5

    lines = observed.lines("obs-")
    assert all(len(v) == 1 for v in lines.values()), "one line per request"
    assert sorted(lines) == sorted([*(f"obs-ok-{i}" for i in range(5)), "obs-422", "obs-404"])
    line = lines["obs-ok-4"][0]
    assert line["deployment"] == "echo" and line["version"] == 1 and line["inputs"] == 3
    assert line["status"] == 200 and line["error_type"] is None and line["level"] == "info"
    assert line["key_id"].startswith("key_") and line["tenant"] == "default"
    assert line["latency_ms"] >= line["backend_ms"] >= 0 and line["queue_ms"] >= 0
    assert lines["obs-422"][0]["error_type"] == "invalid_request"
    assert lines["obs-404"][0]["requested"] == "no-such-model"
    assert "4111" not in observed.log_path.read_text()  # payloads are never logged


def test_llm_tokens_cost_cache_fallbacks_retries_and_breakers(observed: Observed) -> None:
    server, upstream, client = observed.server, observed.upstream, observed.client()
    before = scrape(server)
    first = client.chat.completions.create(model="obs-ok", messages=MESSAGES)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="obs-ok",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    streamed = [chunk.usage for chunk in stream if chunk.usage is not None]
    upstream.set_fault("m-obs-retry", "error_once")
    client.chat.completions.create(model="obs-retry", messages=MESSAGES)  # type: ignore[arg-type]
    upstream.set_fault("m-obs-down", "unavailable")
    fell = client.chat.completions.with_raw_response.create(model="obs-down", messages=MESSAGES)  # type: ignore[arg-type]
    assert fell.headers["x-bastion-fallback"] == "obs-backup"
    for _ in range(2):
        client.chat.completions.create(model="obs-cached", messages=MESSAGES, temperature=0)  # type: ignore[arg-type]
    upstream.set_fault("m-obs-solo", "error")
    for _ in range(2):
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model="obs-solo", messages=MESSAGES)  # type: ignore[arg-type]

    d = delta(before, scrape(server))
    assert first.usage is not None and len(streamed) == 1
    prompt = first.usage.prompt_tokens + streamed[0].prompt_tokens
    completion = first.usage.completion_tokens + streamed[0].completion_tokens
    assert d("bastion_tokens_total", deployment="obs-ok", kind="prompt") == prompt
    assert d("bastion_tokens_total", deployment="obs-ok", kind="completion") == completion
    cost = d("bastion_cost_usd_total", deployment="obs-ok")
    assert cost == pytest.approx((prompt * 1.0 + completion * 2.0) / 1e6)
    ok = {"version": "1", "status": "200", "error_type": "none"}
    assert d("bastion_requests_total", deployment="obs-ok", **ok) == 2
    assert d("bastion_upstream_retries_total", group="obs-retry") == 1
    assert d("bastion_fallbacks_total", deployment="obs-down", to="obs-backup") == 1
    assert d("bastion_cache_lookups_total", deployment="obs-cached", result="miss") == 1
    assert d("bastion_cache_lookups_total", deployment="obs-cached", result="hit") == 1
    after = scrape(server)
    assert after[key("bastion_breaker_state", group="obs-solo", upstream="obs-solo-up")] == 2
    assert after[key("bastion_breaker_state", group="obs-ok", upstream="obs-ok-up")] == 0
    assert after[key("bastion_queue_depth", kind="group", name="obs-ok")] == 0
    assert after[key("bastion_in_flight", kind="upstream", name="obs-ok-up")] == 0


def test_traces_continue_the_clients_trace_down_to_the_upstream_call(observed: Observed) -> None:
    server, receiver = observed.server, observed.receiver
    trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {**server.auth, "traceparent": f"00-{trace}-{parent}-01", "x-request-id": "obs-tr"}
    body = {"model": "obs-ok", "messages": MESSAGES}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    upstream_span = "upstream POST /chat/completions"
    spans = receiver.wait_for(trace, {"bastion openai.chat", "bastion.execute", upstream_span})
    request, execute, call = (
        spans["bastion openai.chat"],
        spans["bastion.execute"],
        spans[upstream_span],
    )
    assert request["parent"] == parent and request["kind"] == 2  # SERVER
    assert request["attributes"]["bastion.deployment"] == "obs-ok"
    assert request["attributes"]["http.response.status_code"] == 200
    assert request["attributes"]["gen_ai.usage.input_tokens"] >= 1
    assert execute["parent"] == request["span_id"]
    assert call["parent"] == execute["span_id"] and call["kind"] == 3  # CLIENT
    assert call["attributes"]["bastion.upstream"] == "obs-ok-up"
    assert observed.lines("obs-tr")["obs-tr"][0]["trace_id"] == trace

    fresh = _post(server, "/v1/deployments/echo/predict", "obs-tr-2", json={"input": 1})
    assert fresh.status_code == 200
    new_trace = observed.lines("obs-tr-2")["obs-tr-2"][0]["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", new_trace) and new_trace != trace
    spans = receiver.wait_for(new_trace, {"bastion predict", "bastion.execute"})
    assert spans["bastion predict"]["parent"] == ""  # a new trace: no parent


def test_several_workers_report_one_sum(tmp_path: Path) -> None:
    with running_upstream() as upstream:
        cfg = tmp_path / "bastion.yaml"
        cfg.write_text(yaml.safe_dump(_config(upstream.base_url, demo=False)))
        data = tmp_path / "data"
        server = make_server(data, BASTION_CONFIG=str(cfg)).start("--workers", "2")
        try:
            files = data / "prometheus-multiproc"
            sent, deadline = 0, time.monotonic() + 60
            body = {"model": "obs-ok", "messages": MESSAGES}
            while len(list(files.glob("counter_*.db"))) < 2 or sent < 10:
                assert time.monotonic() < deadline, "both workers should serve"
                with httpx.Client(headers=server.auth) as client:  # a new connection each time
                    r = client.post(server.url + "/v1/chat/completions", json=body, timeout=30)
                assert r.status_code == 200, r.text
                sent += 1
            ok = key(
                "bastion_requests_total",
                deployment="obs-ok",
                version="1",
                status="200",
                error_type="none",
            )
            for _ in range(4):  # whichever worker answers the scrape, the totals are the same
                totals = scrape(server)
                assert totals[ok] == sent
                assert (
                    totals[key("bastion_request_duration_seconds_count", deployment="obs-ok")]
                    == sent
                )
                assert totals[key("bastion_queue_depth", kind="group", name="obs-ok")] == 0
        finally:
            server.stop()
