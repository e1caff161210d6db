"""The onnx flavor over real scikit-learn models exported with skl2onnx."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from bastion.backends.base import SharedResources
from bastion.backends.onnx_model import OnnxBackend
from bastion.errors import ConfigError, InvalidRequest, ModelNotReady
from tests.backends.fakes_backends import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    Iris,
    iris_signature,
    make_spec,
    to_onnx,
)


async def _loaded(path: Path, resources: SharedResources, **signature: object) -> OnnxBackend:
    backend = OnnxBackend(make_spec("onnx", path, signature=signature), resources)
    await backend.load()
    return backend


async def test_classifier_batch_in_order(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.onnx, resources, **iris_signature())
    rows = iris.rows(12)
    predictions = await backend.infer(rows)
    assert len(predictions) == 12
    assert [p.output["label"] for p in predictions] == iris.labels(12)
    for p in predictions:
        out = p.output
        assert set(out) == {"label", "class_id", "probability", "probabilities"}
        assert IRIS_CLASSES[out["class_id"]] == out["label"]
        assert p.confidence == out["probability"] == max(out["probabilities"].values())
        assert list(out["probabilities"]) == IRIS_CLASSES
        assert sum(out["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert all(isinstance(v, float) for v in out["probabilities"].values())


async def test_objects_and_arrays_agree(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.onnx, resources, **iris_signature())
    rows = iris.rows(3)
    arrays = [[row[name] for name in IRIS_FEATURES] for row in rows]
    mixed = [rows[0], arrays[1], rows[2]]
    assert await backend.infer(arrays) == await backend.infer(rows) == await backend.infer(mixed)


async def test_large_batch_goes_to_a_thread_and_keeps_order(
    iris: Iris, resources: SharedResources
) -> None:
    backend = await _loaded(iris.onnx, resources, **iris_signature())
    predictions = await backend.infer(iris.rows(150))
    accuracy = np.mean(
        [p.output["label"] == y for p, y in zip(predictions, iris.labels(150), strict=True)]
    )
    assert len(predictions) == 150 and accuracy > 0.9


async def test_regressor_outputs_a_value(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.regressor_onnx, resources)
    predictions = await backend.infer([[5.1, 3.5, 1.4], [6.7, 3.0, 5.2]])
    values = [p.output["value"] for p in predictions]
    assert values[0] < 0.5 < 1.5 < values[1]
    assert all(p.confidence is None for p in predictions)


async def test_zipmap_model_and_labels_from_the_graph(
    iris: Iris, resources: SharedResources, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=500).fit(iris.x, iris.y)
    path = tmp_path / "zip.onnx"
    path.write_bytes(to_onnx(clf, 4, zipmap=True))
    backend = await _loaded(path, resources)
    (first, last) = await backend.infer([iris.x[0].tolist(), iris.x[-1].tolist()])
    assert first.output["label"] == "0" and last.output["label"] == "2"
    assert list(first.output["probabilities"]) == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"sepal_length": 1.0}, "inputs[1].sepal_width"),
        ({**dict.fromkeys(IRIS_FEATURES, 1.0), "petal_width": "wide"}, "inputs[1].petal_width"),
        ({**dict.fromkeys(IRIS_FEATURES, 1.0), "petal_width": True}, "inputs[1].petal_width"),
        ([1.0, 2.0, 3.0], "inputs[1]"),
        ([1.0, 2.0, 3.0, float("nan")], "inputs[1]"),
        ([1.0, 2.0, 3.0, 1e300], "inputs[1]"),
        ("sepal", "inputs[1]"),
    ],
)
async def test_bad_items_are_the_clients_fault(
    iris: Iris, resources: SharedResources, item: object, field: str
) -> None:
    backend = await _loaded(iris.onnx, resources, **iris_signature())
    with pytest.raises(InvalidRequest) as caught:
        await backend.infer([iris.rows(1)[0], item])
    assert caught.value.details["field"] == field


async def test_objects_need_feature_names(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.onnx, resources)
    assert len(await backend.infer([[1.0, 2.0, 3.0, 4.0]])) == 1
    with pytest.raises(InvalidRequest, match="names no features"):
        await backend.infer(iris.rows(1))


async def test_load_errors(iris: Iris, resources: SharedResources, tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="onnxruntime cannot load it"):
        await _loaded(junk, resources)
    with pytest.raises(ConfigError, match="names 2 features but the model takes 4"):
        await _loaded(iris.onnx, resources, feature_names=["a", "b"])
    with pytest.raises(ConfigError, match="2 classes named for 3 probabilities"):
        await _loaded(iris.onnx, resources, classes=["a", "b"])
    with pytest.raises(ConfigError, match="needs a model file"):
        await OnnxBackend(make_spec("onnx", None), resources).load()


async def test_not_loaded_and_empty(iris: Iris, resources: SharedResources) -> None:
    backend = OnnxBackend(make_spec("onnx", iris.onnx), resources)
    with pytest.raises(ModelNotReady):
        await backend.infer([[1.0, 2.0, 3.0, 4.0]])
    await backend.load()
    assert await backend.infer([]) == []
    await backend.aclose()
    with pytest.raises(ModelNotReady):
        await backend.infer([[1.0, 2.0, 3.0, 4.0]])


def test_sessions_are_single_threaded(iris: Iris) -> None:
    from bastion.backends.onnx_model import new_session

    session = new_session(iris.onnx)
    assert isinstance(session, ort.InferenceSession)
    assert session.get_providers() == ["CPUExecutionProvider"]


def test_the_memory_arena_is_on_unless_turned_off(iris: Iris) -> None:
    from bastion.backends.onnx_model import new_session

    assert new_session(iris.onnx).get_session_options().enable_cpu_mem_arena
    off = new_session(iris.onnx, memory_arena=False)
    assert not off.get_session_options().enable_cpu_mem_arena
    assert off.get_session_options().enable_mem_pattern  # memory patterns stay on


async def test_a_row_answers_the_same_in_any_batch(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.onnx, resources, **iris_signature())
    rows = iris.rows(40)
    together = await backend.infer(rows)
    alone = [(await backend.infer([row]))[0] for row in rows]
    assert alone == together


def test_onnxruntime_errors_are_mapped_and_others_pass_through(iris: Iris) -> None:
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    from bastion.backends.onnx_model import map_onnx_errors
    from bastion.errors import BastionError

    session = ort.InferenceSession(str(iris.onnx), providers=["CPUExecutionProvider"])
    wrong_width = {session.get_inputs()[0].name: np.zeros((1, 3), np.float32)}
    failed = r"model m failed in onnxruntime \(InvalidArgument\)"
    with pytest.raises(BastionError, match=failed), map_onnx_errors("m"):
        session.run(None, wrong_width)
    unloadable = r"model m: onnxruntime cannot load it \(Fail\)"
    with pytest.raises(ConfigError, match=unloadable) as e, map_onnx_errors("m", loading=True):
        raise ort_state.Fail("broken")
    assert isinstance(e.value.__cause__, ort_state.Fail)
    with pytest.raises(KeyError), map_onnx_errors("m"):  # not onnxruntime's: unchanged
        raise KeyError("x")
    with map_onnx_errors("m"):
        pass
