"""The python flavor: functions and classes, sync and async, imported or from a source file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from bastion.backends.base import Prediction, SharedResources
from bastion.backends.python_fn import PythonBackend
from bastion.errors import BastionError, ConfigError, InvalidRequest, ModelOutputInvalid
from tests.backends.fakes_backends import MODEL_SOURCE, make_spec

FAKES = "tests.backends.fakes_backends"


async def _loaded(
    resources: SharedResources, entry_point: str, path: Path | None = None
) -> PythonBackend:
    spec = make_spec("python", path, params={"entry_point": entry_point})
    backend = PythonBackend(spec, resources)
    await backend.load()
    return backend


@pytest.mark.parametrize("attr", ["double", "async_double"])
async def test_functions_sync_and_async(resources: SharedResources, attr: str) -> None:
    backend = await _loaded(resources, f"{FAKES}:{attr}")
    assert await backend.infer([1, 2, 3]) == [Prediction(2), Prediction(4), Prediction(6)]
    assert await backend.infer([]) == []


async def test_classes_are_loaded_once(resources: SharedResources) -> None:
    backend = await _loaded(resources, f"{FAKES}:Scorer")
    assert await backend.infer([1, 2]) == [Prediction(101, 0.5), Prediction(102, 0.5)]
    async_backend = await _loaded(resources, f"{FAKES}:AsyncScorer")
    assert [p.output for p in await async_backend.infer(["a", 123])] == [1, 3]


async def test_envelopes_and_numpy_outputs(resources: SharedResources) -> None:
    backend = await _loaded(resources, f"{FAKES}:with_confidence")
    assert await backend.infer([2]) == [Prediction({"even": True}, confidence=0.9)]
    backend = await _loaded(resources, f"{FAKES}:numpy_out")
    outputs = [p.output for p in await backend.infer([1, 3])]
    assert outputs == [0.5, 1.5] and all(type(o) is float for o in outputs)


async def test_source_file_without_a_py_suffix(resources: SharedResources, tmp_path: Path) -> None:
    stored = tmp_path / "0f3a9c"  # the artifact store names files by their hash
    stored.write_text(MODEL_SOURCE)
    backend = await _loaded(resources, "predict", stored)
    assert await backend.infer(["ab", 1]) == [Prediction("AB", 1.0), Prediction("1", 1.0)]
    module = next(name for name in sys.modules if name.startswith("bastion_model_m_v1_"))
    other = await _loaded(resources, "Model", stored)
    assert [p.output for p in await other.infer(["abc"])] == [3]
    await backend.aclose()
    assert module not in sys.modules
    await other.aclose()


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("wrong_length", "returned 1 outputs for 2 inputs"),
        ("not_a_list", "returned dict"),
        ("bad_confidence", r"confidence must be a number in \[0, 1\]"),
    ],
)
async def test_bad_outputs_are_model_errors(
    resources: SharedResources, attr: str, message: str
) -> None:
    backend = await _loaded(resources, f"{FAKES}:{attr}")
    with pytest.raises(ModelOutputInvalid, match=message):
        await backend.infer([1, 2])


async def test_a_crash_is_a_500_without_internals(resources: SharedResources) -> None:
    backend = await _loaded(resources, f"{FAKES}:crash")
    with pytest.raises(BastionError) as caught:
        await backend.infer([1])
    err = caught.value
    assert type(err) is BastionError and err.type == "internal_error" and err.status == 500
    assert "RuntimeError" in err.message and "secret internals" not in err.message
    assert isinstance(err.__cause__, RuntimeError)


async def test_a_model_may_refuse_an_item(resources: SharedResources) -> None:
    backend = await _loaded(resources, f"{FAKES}:refuse_negative")
    assert [p.output for p in await backend.infer([1])] == [1]
    with pytest.raises(InvalidRequest, match="negative"):
        await backend.infer([-1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs params.entry_point"),
        ({"entry_point": "no_colon"}, "is not 'package.module:attr'"),
        ({"entry_point": f"{FAKES}:missing"}, "has no attribute 'missing'"),
        ({"entry_point": "tests.no_such_module:f"}, "ModuleNotFoundError"),
        ({"entry_point": f"{FAKES}:NeedsArguments"}, "TypeError"),
        ({"entry_point": f"{FAKES}:IRIS_CLASSES"}, "must be a function or a class"),
    ],
)
async def test_bad_entry_points(
    resources: SharedResources, params: dict[str, Any], message: str
) -> None:
    backend = PythonBackend(make_spec("python", None, params=params), resources)
    with pytest.raises(ConfigError, match=message):
        await backend.load()


async def test_bad_source_files(resources: SharedResources, tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text(MODEL_SOURCE)
    with pytest.raises(ConfigError, match="the attribute name alone"):
        await _loaded(resources, "model:predict", source)
    broken = tmp_path / "broken.py"
    broken.write_text("def predict(:\n")
    before = set(sys.modules)
    with pytest.raises(ConfigError, match="SyntaxError"):
        await _loaded(resources, "predict", broken)
    assert set(sys.modules) == before
