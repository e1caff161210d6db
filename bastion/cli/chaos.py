"""`bastion chaos upstream`: run the fault-injecting OpenAI-compatible upstream for drills."""

from __future__ import annotations

import typer

from bastion.cli.common import console

app = typer.Typer(
    rich_markup_mode=None,
    help="Chaos drills: a fault-injecting upstream to point Bastion at (local).",
    no_args_is_help=True,
)


@app.command()
def upstream(
    host: str = typer.Option("127.0.0.1", help="bind address"),
    port: int = typer.Option(9100, help="port"),
) -> None:
    """Serve the OpenAI routes (chat, completions, embeddings, models) with faults on demand.

    Set a fault per upstream model name, e.g.:
      curl -X POST localhost:9100/_control/faults \
        -d '{"model": "m", "fault": "cut_stream", "after": 3}'
    Faults: rate_limit, error, error_once, unavailable, reset, hang, delay_first_token,
    cut_stream, stall_stream, malformed_chunk, omit_done, context_length, content_policy,
    flap, slow, silent, low_confidence, refuse_prefill, ignore_prefill,
    different_answer. GET /_control/stats counts
    requests; DELETE /_control/faults clears.
    """
    from bastion.testing import FaultUpstream

    console.print(f"fault upstream on http://{host}:{port}/v1 (control: /_control/faults)")
    FaultUpstream().run(host=host, port=port)
