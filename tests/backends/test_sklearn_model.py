"""The sklearn flavor: skops files load when every type is scikit-learn/numpy; pickles only
when trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import skops.io
from sklearn.linear_model import LinearRegression, RidgeClassifier

from bastion.backends.base import SharedResources
from bastion.backends.sklearn_model import SklearnBackend, is_skops_file
from bastion.errors import ConfigError, InvalidRequest
from tests.backends.fakes_backends import IRIS_CLASSES, Iris, iris_signature, make_spec


async def _loaded(
    path: Path, resources: SharedResources, *, params: dict[str, Any] | None = None, **sig: Any
) -> SklearnBackend:
    backend = SklearnBackend(make_spec("sklearn", path, signature=sig, params=params), resources)
    await backend.load()
    return backend


async def test_skops_classifier(iris: Iris, resources: SharedResources) -> None:
    backend = await _loaded(iris.skops, resources, **iris_signature())
    predictions = await backend.infer(iris.rows(9))
    assert [p.output["label"] for p in predictions] == iris.labels(9)
    expected = skops.io.load(iris.skops, trusted=[]).predict_proba(iris.x[[0]])[0]
    first = predictions[0].output
    assert list(first["probabilities"]) == IRIS_CLASSES
    assert np.allclose(list(first["probabilities"].values()), expected, atol=1e-5)
    assert predictions[0].confidence == first["probability"]


async def test_class_names_default_to_the_fitted_classes(
    iris: Iris, resources: SharedResources
) -> None:
    backend = await _loaded(iris.skops, resources)
    (p,) = await backend.infer([iris.x[-1].tolist()])
    assert p.output["label"] == "2" and list(p.output["probabilities"]) == ["0", "1", "2"]


async def test_pickle_is_refused_unless_trusted(iris: Iris, resources: SharedResources) -> None:
    assert not is_skops_file(iris.joblib)
    with pytest.raises(ConfigError, match="unpickling runs arbitrary code") as caught:
        await _loaded(iris.joblib, resources)
    assert "--trust-pickle" in caught.value.message
    with pytest.raises(ConfigError):
        await _loaded(iris.joblib, resources, params={"trust_pickle": "yes"})
    backend = await _loaded(
        iris.joblib, resources, params={"trust_pickle": True}, **iris_signature()
    )
    rows = iris.rows(70)
    predictions = await backend.infer(rows)
    expected = joblib.load(iris.joblib).predict(np.array([list(r.values()) for r in rows]))
    assert [p.output["class_id"] for p in predictions] == expected.tolist()


async def test_untrusted_skops_types_are_refused(iris: Iris, resources: SharedResources) -> None:
    with pytest.raises(ConfigError, match=r"tests\.backends\.fakes_backends\.Doubler"):
        await _loaded(iris.untrusted_skops, resources)


async def test_regressor_and_label_only_classifier(
    iris: Iris, resources: SharedResources, tmp_path: Path
) -> None:
    reg_path, ridge_path = tmp_path / "reg.skops", tmp_path / "ridge.skops"
    skops.io.dump(LinearRegression().fit(iris.x[:, :3], iris.x[:, 3]), reg_path)
    skops.io.dump(RidgeClassifier().fit(iris.x, iris.y), ridge_path)
    reg = await _loaded(reg_path, resources)
    (small, large) = await reg.infer([[5.1, 3.5, 1.4], [6.7, 3.0, 5.2]])
    assert small.output["value"] < large.output["value"] and small.confidence is None
    ridge = await _loaded(ridge_path, resources, classes=IRIS_CLASSES)
    (p,) = await ridge.infer([iris.x[0].tolist()])
    assert p.output == {"label": "setosa", "class_id": 0} and p.confidence is None


async def test_bad_files_and_inputs(iris: Iris, resources: SharedResources, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"\x80\x05not really a pickle")
    with pytest.raises(ConfigError, match="cannot load the estimator"):
        await _loaded(junk, resources, params={"trust_pickle": True})
    with pytest.raises(ConfigError, match="names 3 classes but the estimator has 2"):
        path = tmp_path / "two.skops"
        skops.io.dump(RidgeClassifier().fit(iris.x[:100], iris.y[:100]), path)
        await _loaded(path, resources, classes=IRIS_CLASSES)
    backend = await _loaded(iris.skops, resources, **iris_signature())
    with pytest.raises(InvalidRequest):
        await backend.infer([[1.0, 2.0]])
