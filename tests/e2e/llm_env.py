"""A fault upstream plus a Bastion server whose model groups point at it (one per scenario)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.server import Server, make_server

FAST = {"connect": 0.5, "first_token": 0.6, "idle": 0.4, "answer": 2.0, "total": 4.0}
PATIENT = {"connect": 0.5, "first_token": 30, "idle": 30, "answer": 30, "total": 60}

# group name → (upstream models, extra group settings). Each test owns its groups, so that
# breaker state left by one scenario never leaks into another.
GROUPS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "backup": (["m-backup"], {}),
    "large": (["m-large"], {}),
    "ok": (["m-ok"], {}),
    "retry429": (["m-retry429"], {}),
    "retry500": (["m-retry500"], {}),
    "down": (["m-down"], {"fallbacks": ["backup"]}),
    "reset": (["m-reset"], {"fallbacks": ["backup"]}),
    "hang": (["m-hang"], {"fallbacks": ["backup"]}),
    "slowstart": (["m-slowstart"], {"fallbacks": ["backup"]}),
    "solo503": (["m-solo503"], {}),
    "solo429": (["m-solo429"], {}),
    "solohang": (["m-solohang"], {}),
    "ctx": (["m-ctx"], {"context_fallback": "large", "fallbacks": ["backup"]}),
    "policy": (["m-policy"], {"fallbacks": ["backup"]}),
    "flappy": (["m-flappy"], {"fallbacks": ["backup"]}),
    "outage": (["m-outage"], {"fallbacks": ["backup"]}),
    "static": (["m-static"], {"static_fallback": "Sorry, try again later."}),
    "pair": (["m-pair-a", "m-pair-b"], {}),
    "cut": (["m-cut"], {}),
    "stall": (["m-stall"], {}),
    "malformed": (["m-malformed"], {}),
    "nodone": (["m-nodone"], {}),
    "streamdown": (["m-streamdown"], {"fallbacks": ["backup"]}),
    "cached": (["m-cached"], {"cache": {"mode": "deterministic", "ttl_s": 60}}),
    "narrow": (["m-narrow"], {"max_concurrency": 1, "max_queue": 1}),
    "semantic": (["m-semantic"], {"cache": {"mode": "deterministic", "semantic_threshold": 0.9}}),
    "emb": (["m-emb"], {}),
    # continuation of broken streams (tests/e2e/test_gateway_continuation.py)
    **{
        f"k-{fault}-{mode}": ([f"m-k-{fault}-{mode}"], {"fallbacks": [f"kb-{fault}-{mode}"]})
        for fault in ("cut", "stall", "malformed")
        for mode in ("prefill", "restart", "none")
    },
    **{
        f"kb-{fault}-{mode}": ([f"m-kb-{fault}-{mode}"], {})
        for fault in ("cut", "stall", "malformed")
        for mode in ("prefill", "restart", "none")
    },
    "k-refuse": (["m-k-refuse"], {"fallbacks": ["kb-refuse"]}),
    "kb-refuse": (["m-kb-refuse"], {}),
    "k-ignore": (["m-k-ignore"], {"fallbacks": ["kb-ignore"]}),
    "kb-ignore": (["m-kb-ignore"], {}),
    "k-diverge": (["m-k-diverge"], {"fallbacks": ["kb-diverge"]}),
    "kb-diverge": (["m-kb-diverge"], {}),
    "silent": (["m-silent"], {"fallbacks": ["backup"]}),
    "hedged": (["m-hedged"], {"fallbacks": ["hedgefb"], "hedge_after_ms": 200}),
    "hedgefb": (["m-hedgefb"], {}),
    "hedgeload": (["m-hl"], {"fallbacks": ["hlfb"], "hedge_after_ms": 50}),
    "hlfb": (["m-hlfb"], {}),
}
# upstream model → its own settings, over the defaults below
UPSTREAMS: dict[str, dict[str, Any]] = {
    "m-cut": {"continuation": "none"},
    "m-stall": {"continuation": "none"},
    "m-malformed": {"continuation": "none"},
    **{
        f"m-{side}-{fault}-{mode}": {"continuation": mode}
        for side in ("k", "kb")
        for fault in ("cut", "stall", "malformed")
        for mode in ("prefill", "restart", "none")
    },
    "m-kb-refuse": {"continuation": "prefill"},
    "m-kb-ignore": {"continuation": "prefill"},
    "m-hedged": {"timeouts": PATIENT},
    "m-hl": {"timeouts": PATIENT},
}


def config(base_url: str) -> dict[str, Any]:
    groups = []
    for name, (models, extra) in GROUPS.items():
        upstreams = [
            {
                "name": f"{name}-{m}",
                "base_url": base_url,
                "model": m,
                "timeouts": FAST,
                "input_price_per_1m": 1.0,
                "output_price_per_1m": 2.0,
                **UPSTREAMS.get(m, {}),
            }
            for m in models
        ]
        groups.append({"name": name, "upstreams": upstreams, **extra})
    return {
        "demo": False,
        "llm": {
            "default_deadline_s": 10,
            "retry": {
                "max_attempts": 3,
                "base_backoff_s": 0.01,
                "max_backoff_s": 0.05,
                "max_retry_after_s": 2,
            },
            "breaker": {"min_calls": 4, "window_calls": 10, "failure_rate": 0.5, "open_s": 2.0},
            "groups": groups,
        },
    }


@dataclass
class LlmEnv:
    upstream: FaultUpstream
    server: Server

    def client(self, **kw: Any) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.server.url + "/v1",
            api_key=self.server.admin_key,
            max_retries=0,
            timeout=kw.pop("timeout", 15),
            **kw,
        )

    def aclient(self, **kw: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=self.server.url + "/v1",
            api_key=self.server.admin_key,
            max_retries=0,
            timeout=kw.pop("timeout", 15),
            **kw,
        )

    def requests(self, model: str) -> int:
        return int(self.upstream.stats()["models"].get(model, {}).get("requests", 0))


@contextmanager
def llm_env(data_dir: Path) -> Iterator[LlmEnv]:
    with running_upstream() as upstream:
        cfg = data_dir.parent / "llm.yaml"
        data_dir.mkdir(parents=True, exist_ok=True)
        cfg.write_text(yaml.safe_dump(config(upstream.base_url)))
        server = make_server(data_dir, BASTION_CONFIG=str(cfg))
        server.start()
        try:
            yield LlmEnv(upstream, server)
        finally:
            server.stop()
