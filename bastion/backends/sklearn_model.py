"""The ``sklearn`` flavor: a scikit-learn estimator from a skops file (or a trusted pickle)."""

from __future__ import annotations

import asyncio
import pickle
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bastion.backends.archives import check_archive
from bastion.backends.base import ModelSpec, Prediction, SharedResources
from bastion.backends.columns import ClassifierColumns
from bastion.backends.onnx_model import (
    INLINE_MAX_ROWS,
    classifier_predictions,
    feature_matrix,
    regression_predictions,
    rows_matrix,
)
from bastion.backends.threads import VersionThreads
from bastion.core.columns import FeatureRows
from bastion.errors import BastionError, ConfigError, ModelNotReady, ModelOutputInvalid

# skops lists the types it would have to construct; these modules are the ones we accept.
TRUSTED_TYPE_PREFIXES = ("sklearn.", "numpy.")

# What scikit-learn, numpy, skops and unpickling raise for a broken model or file. Estimators
# run arbitrary numeric code, but these are the failures they document.
_ESTIMATOR_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError, AttributeError)
_LOAD_ERRORS = (
    *_ESTIMATOR_ERRORS,
    pickle.UnpicklingError,
    EOFError,
    ImportError,
    OSError,
    zipfile.BadZipFile,
)


@contextmanager
def map_sklearn_errors(model: str, *, loading: bool = False) -> Iterator[None]:
    """The one place where scikit-learn, skops and joblib exceptions become Bastion errors."""
    caught = _LOAD_ERRORS if loading else _ESTIMATOR_ERRORS
    try:
        yield
    except BastionError:
        raise
    except caught as exc:
        kind = type(exc).__name__
        if loading:
            raise ConfigError(f"model {model}: cannot load the estimator ({kind}): {exc}") from exc
        raise BastionError(f"model {model} failed in scikit-learn ({kind}): {exc}") from exc


def is_skops_file(path: Path) -> bool:
    """skops files are zip archives holding a ``schema.json``; anything else is a pickle."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "schema.json" in archive.namelist()


def _load_skops(path: Path, model: str) -> Any:
    import skops.io

    check_archive(path)  # a zip bomb is refused before skops inflates it
    untrusted = skops.io.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if refused:
        raise ConfigError(
            f"model {model}: the skops file holds types outside scikit-learn and numpy, which "
            f"loading would have to trust: {', '.join(sorted(refused))}. Export the model to "
            "ONNX, or serve it with the python flavor"
        )
    return skops.io.load(path, trusted=untrusted)


def load_estimator(path: Path, model: str, *, trust_pickle: bool) -> Any:
    """Load a skops file, or a joblib/pickle file when ``trust_pickle`` is set."""
    with map_sklearn_errors(model, loading=True):
        if is_skops_file(path):
            return _load_skops(path, model)
        if not trust_pickle:
            raise ConfigError(
                f"model {model}: the artifact is a joblib/pickle file, and unpickling runs "
                "arbitrary code. Save it with skops (skops.io.dump) or export it to ONNX; if you "
                "trust where the file came from, register it with --trust-pickle "
                '(params {"trust_pickle": true})'
            )
        import joblib

        return joblib.load(path)


class SklearnBackend:
    """Serves a scikit-learn estimator: ``predict_proba`` when it has one, else ``predict``."""

    def __init__(self, spec: ModelSpec, resources: SharedResources) -> None:
        self._spec = spec
        self._label = f"'{spec.name}' v{spec.version}"
        self._threads = VersionThreads(self._label)
        names = spec.signature.get("feature_names")
        self._feature_names: list[str] | None = [str(n) for n in names] if names else None
        self._estimator: Any = None
        self._classes: list[str] = []
        self._fitted: list[str] = []
        self._width: int | None = None

    async def load(self) -> None:
        path = self._spec.artifact_path
        if path is None:
            raise ConfigError(f"model {self._label}: the sklearn flavor needs a model file")
        trust = self._spec.params.get("trust_pickle") is True
        estimator = await asyncio.to_thread(load_estimator, path, self._label, trust_pickle=trust)
        if not hasattr(estimator, "predict"):
            kind = type(estimator).__name__
            raise ConfigError(f"model {self._label}: a {kind} has no predict method")
        width = getattr(estimator, "n_features_in_", None)
        names = self._feature_names
        if names and isinstance(width, int) and width != len(names):
            raise ConfigError(
                f"model {self._label}: the signature names {len(names)} features "
                f"but the estimator takes {width}"
            )
        fitted = getattr(estimator, "classes_", None)
        self._fitted = [str(c) for c in fitted] if fitted is not None else []
        signed = self._spec.signature.get("classes")
        self._classes = [str(c) for c in signed] if signed else self._fitted
        if self._fitted and len(self._classes) != len(self._fitted):
            raise ConfigError(
                f"model {self._label}: the signature names {len(self._classes)} classes "
                f"but the estimator has {len(self._fitted)}"
            )
        self._width = width if isinstance(width, int) else None
        self._estimator = estimator

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if len(inputs) <= INLINE_MAX_ROWS:
            return self._infer(inputs)
        return await self._threads.run(self._infer, inputs)

    async def infer_matrix(self, rows: FeatureRows) -> Sequence[Prediction]:
        """The columnar path (``MatrixBackend``): rows already in the contract's order."""
        if self._feature_names is None or list(rows.names) != self._feature_names:
            return await self.infer(rows)  # another column order: the row path decides
        return await self._threads.run(self._infer_matrix, rows)

    def _infer_matrix(self, rows: FeatureRows) -> Sequence[Prediction]:
        estimator = self._estimator
        if estimator is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        if not len(rows) or not (hasattr(estimator, "predict_proba") and self._classes):
            return self._infer(rows)
        matrix = rows_matrix(rows)
        with map_sklearn_errors(self._label):
            return ClassifierColumns(estimator.predict_proba(matrix), self._classes)

    def _infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        estimator = self._estimator
        if estimator is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        if not inputs:
            return []
        matrix = feature_matrix(inputs, self._feature_names, self._width)
        with map_sklearn_errors(self._label):
            if hasattr(estimator, "predict_proba") and self._classes:
                return classifier_predictions(estimator.predict_proba(matrix), self._classes)
            values = np.asarray(estimator.predict(matrix))
        if self._fitted:
            return [self._label_only(v) for v in values.tolist()]
        return regression_predictions(values, len(inputs))

    def _label_only(self, value: Any) -> Prediction:
        if str(value) not in self._fitted:
            raise ModelOutputInvalid(f"model {self._label} predicted an unknown class {value!r}")
        class_id = self._fitted.index(str(value))
        return Prediction({"label": self._classes[class_id], "class_id": class_id})

    async def aclose(self) -> None:
        self._estimator = None
        self._threads.close()
