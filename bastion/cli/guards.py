"""`bastion guards …`: evaluate the PII and injection guards on labelled JSONL files."""

from __future__ import annotations

import json
import tempfile
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
    config: Path | None = ConfigOption,
) -> None:
    """Precision, recall, F1, false-positive rate and p50/p99 latency per check for lines
    ``{"text": ..., "label": 0|1}``, with the screen the server runs (guards settings)."""
    from bastion.backends.resources import Resources
    from bastion.guards.eval import evaluate_injection, format_report
    from bastion.guards.injection import InjectionScreen
    from bastion.guards.policies import load_screen_parts

    settings = settings_from(config)
    encoder, model = load_screen_parts(settings.guards, Resources(), settings.data_dir / "cache")
    screen = InjectionScreen(encoder, threshold, model=model)
    try:
        report = evaluate_injection(file, screen)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise _fail(file, exc) from exc
    console.print(format_report(report), markup=False, highlight=False)


@app.command("train-screen", hidden=True)
def train_screen(
    tokens: list[int] = typer.Option([48], help="classifier token windows to train for"),
    output: Path | None = typer.Option(None, help="default: the package's shipped weights"),
) -> None:
    """(Maintainers) train the injection classifier for the int8 and bundled encoders and
    write the weights the server loads at start-up instead of training."""
    from bastion.backends.encoder import (
        MiniLMEncoder,
        bundled_encoder_paths,
        bundled_encoder_sha256,
    )
    from bastion.guards.injection.fast import (
        TokenWindow,
        WeightsKey,
        quantized_copy,
        runtime_version,
        train_model,
        training_sha256,
        weights_entry,
        weights_path,
    )

    model_path, tokenizer = bundled_encoder_paths()
    sha = bundled_encoder_sha256()
    cache = Path(tempfile.mkdtemp(prefix="bastion-screen-"))
    encoders = {
        "int8-matmul": MiniLMEncoder(quantized_copy(model_path, cache, sha), tokenizer),
        "bundled": MiniLMEncoder(model_path, tokenizer),
    }
    entries = []
    for kind, base in encoders.items():
        for n in tokens:
            key = WeightsKey(kind, sha, runtime_version(), n, training_sha256())
            entries.append(weights_entry(key, train_model(TokenWindow(base, tokenizer, n))))
            console.print(f"trained {kind}, {n} tokens")
    target = output or weights_path()
    target.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    console.print(f"wrote {len(entries)} classifiers to {target}")
