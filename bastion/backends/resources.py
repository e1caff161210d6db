"""Resources: the heavy objects backends share in one process, each loaded once on first use."""

from __future__ import annotations

import threading
from pathlib import Path

from bastion.backends.base import TextEncoder
from bastion.backends.encoder import MiniLMEncoder, bundled_encoder_paths, bundled_encoder_sha256


class Resources:
    """Implements ``SharedResources``: text encoders cached by model path, built lazily.

    Safe to call from many threads at once (backends load through ``asyncio.to_thread``): the
    first caller for a path builds the encoder, later ones wait for it and share it.
    """

    def __init__(self, *, encoder_threads: int = 1) -> None:
        self._encoder_threads = encoder_threads
        self._encoders: dict[Path, TextEncoder] = {}
        self._lock = threading.Lock()

    def text_encoder(self, model_path: Path | None = None) -> TextEncoder:
        """The encoder for ``model_path``; ``None`` is the bundled all-MiniLM-L6-v2.

        The bundled file is checked against the sha256 its package pins. Another path (the
        registry's stored copy) uses the bundled tokenizer; the registry checks its bytes.
        """
        bundled, tokenizer = bundled_encoder_paths()
        key = (model_path or bundled).resolve()
        with self._lock:
            encoder = self._encoders.get(key)
            if encoder is None:
                expected = bundled_encoder_sha256() if model_path is None else None
                encoder = MiniLMEncoder(
                    key, tokenizer, expected_sha256=expected, threads=self._encoder_threads
                )
                self._encoders[key] = encoder
            return encoder
