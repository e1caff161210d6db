"""`bastion guards …`: evaluate the PII and injection guards on labelled JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from bastion.cli.common import ConfigOption, console, err_console, settings_from

app = typer.Typer(
    rich_markup_mode=None,
    help="Guards: evaluate PII detection and injection screening (local, on files).",
    no_args_is_help=True,
)
eval_app = typer.Typer(
    rich_markup_mode=None,
    help="Precision, recall and F1 on a labelled JSONL file.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

FileArg = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="labelled JSONL")


def _fail(path: Path, exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/red] cannot evaluate {path}: {exc}")
    return typer.Exit(2)


@eval_app.command("pii")
def eval_pii(
    file: Path = FileArg,
    pii_type: list[str] = typer.Option([], "--type", help="only these entity types"),
) -> None:
    """Per entity type P/R/F1 (span-exact and overlap) for lines
    ``{"text": ..., "entities": [{"type", "start", "end"}]}``."""
    from bastion.guards.eval import evaluate_pii, format_report
    from bastion.guards.pii import PiiDetector

    try:
        detector = PiiDetector(types=pii_type or None)
        report = evaluate_pii(file, detector)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise _fail(file, exc) from exc
    console.print(format_report(report), markup=False, highlight=False)


@eval_app.command("injection")
def eval_injection(
    file: Path = FileArg,
    threshold: float = typer.Option(0.5, min=0.01, max=1.0, help="flag at or above this score"),
    untrusted_threshold: float | None = typer.Option(
        None,
        min=0.01,
        max=1.0,
        help='for lines with "source": "tool" (default: the LLM policy\'s untrusted threshold)',
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Precision, recall, F1, false-positive rate and p50/p99 latency per check for lines
    ``{"text": ..., "label": 0|1, "kind"?, "source"?}``, overall, per kind and by text
    length, with the screen the server runs (guards settings)."""
    from bastion.backends.resources import Resources
    from bastion.guards.eval import evaluate_injection, format_report
    from bastion.guards.injection import InjectionScreen
    from bastion.guards.policies import load_screen_parts

    settings = settings_from(config)
    encoder, model = load_screen_parts(settings.guards, Resources(), settings.data_dir / "cache")
    screen = InjectionScreen(encoder, threshold, model=model)
    try:
        strict = untrusted_threshold or settings.guards.llm.injection_untrusted_threshold
        report = evaluate_injection(file, screen, untrusted_threshold=strict)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise _fail(file, exc) from exc
    console.print(format_report(report), markup=False, highlight=False)


@app.command("train-screen", hidden=True)
def train_screen(
    output: Path | None = typer.Option(None, help="default: the package's shipped weights"),
) -> None:
    """(Maintainers) train the injection screen's n-gram model on the bundled training set
    and write the weights the server loads at start-up instead of training."""
    from bastion.guards.injection.shipped import train_ngram, write_ngram

    target = write_ngram(train_ngram(), output)
    console.print(f"wrote the n-gram model to {target}")
