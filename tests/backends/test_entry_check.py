"""A python model's entry point checked at registration: imported or parsed, never called."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.backends.entry_check import check_module_entry_point, check_source_entry_point
from bastion.errors import InvalidRequest

MODELS = "tests.routing.rollouts.models"


def test_an_importable_callable_passes_without_being_called() -> None:
    check_module_entry_point({"entry_point": f"{MODELS}:broken"})  # broken raises if called


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ("mypkg.rules:predict", "module 'mypkg.rules' cannot be imported on the server"),
        (f"{MODELS}:nope", f"module '{MODELS}' has no attribute 'nope'"),
        ("os:sep", "'os:sep' is a str"),
        ("os.path", "is not 'package.module:attr'"),
        ("", "needs an entry point"),
    ],
)
def test_what_cannot_load_is_refused_naming_it(entry: str, said: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_module_entry_point({"entry_point": entry})
    assert said in refused.value.message
    assert refused.value.details == {"field": "params.entry_point"}


def test_a_source_file_is_parsed_not_run(tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text(
        "raise SystemExit('not at registration')\n"
        "try:\n    from fast import predict\nexcept ImportError:\n    def predict(x): ...\n"
        "class Model:\n    def predict(self, x): ...\n"
    )
    for entry in ("predict", "Model"):
        check_source_entry_point({"entry_point": entry}, source)
    with pytest.raises(InvalidRequest, match="defines no top-level 'score'"):
        check_source_entry_point({"entry_point": "score"}, source)
    with pytest.raises(InvalidRequest, match="a top-level name alone"):
        check_source_entry_point({"entry_point": "model:predict"}, source)
    source.write_text("def predict(:\n")
    with pytest.raises(InvalidRequest, match="not valid Python"):
        check_source_entry_point({"entry_point": "predict"}, source)
