"""Resources: the heavy objects backends share in one process, each loaded once on first use."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from bastion.backends.base import TextEncoder
from bastion.backends.encoder import MiniLMEncoder, bundled_encoder_paths, bundled_encoder_sha256


class Resources:
    """Implements ``SharedResources``: text encoders cached by model file, built lazily.

    Safe to call from many threads at once (backends load through ``asyncio.to_thread``): the
    first caller for a file builds the encoder, later ones wait for it and share it. Files
    are told apart by their bytes (sha256), not their paths: the registry's stored copy of
    the bundled encoder (the demo's embedding deployment), the bundled file itself (the
    intent classifier, the semantic cache) and any other copy share one onnxruntime session
    (~40 MiB each otherwise).
    """

    def __init__(self, *, encoder_threads: int = 1) -> None:
        self._encoder_threads = encoder_threads
        self._encoders: dict[str, TextEncoder] = {}
        self._digests: dict[Path, str] = {}
        self._lock = threading.Lock()

    def text_encoder(self, model_path: Path | None = None) -> TextEncoder:
        """The encoder for ``model_path``; ``None`` is the bundled all-MiniLM-L6-v2.

        The bundled file is checked against the sha256 its package pins. Another path (the
        registry's stored copy) uses the bundled tokenizer; the registry checks its bytes.
        """
        bundled, tokenizer = bundled_encoder_paths()
        path = (model_path or bundled).resolve()
        with self._lock:
            digest = self._digests.get(path)
            if digest is None:
                digest = self._digests[path] = file_sha256(path)
            expected = bundled_encoder_sha256() if model_path is None else None
            encoder = self._encoders.get(digest)
            if encoder is None or (expected is not None and digest != expected):
                # a bundled file that does not match its pin fails here, as before
                encoder = MiniLMEncoder(
                    path, tokenizer, expected_sha256=expected, threads=self._encoder_threads
                )
                self._encoders[digest] = encoder
            return encoder


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
