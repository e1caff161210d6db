"""Shared resources: one encoder (one onnxruntime session) per model file's bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion.backends.encoder import bundled_encoder_paths
from bastion.backends.resources import Resources


def test_copies_of_one_file_share_one_encoder(tmp_path: Path) -> None:
    bundled, _ = bundled_encoder_paths()
    copy = tmp_path / "stored" / "model.onnx"
    copy.parent.mkdir()
    shutil.copyfile(bundled, copy)
    resources = Resources()
    first = resources.text_encoder(copy)  # e.g. the registry's copy, loaded first
    assert resources.text_encoder() is first  # the bundled file: same bytes, same session
    assert resources.text_encoder(copy) is first


def test_different_bytes_get_their_own_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.backends import resources as module

    bundled, _ = bundled_encoder_paths()
    other = tmp_path / "other.onnx"
    shutil.copyfile(bundled, other)
    real = module.file_sha256
    monkeypatch.setattr(  # as if ``other`` held a different (fine-tuned) model
        module, "file_sha256", lambda p: "other" if p == other.resolve() else real(p)
    )
    resources = Resources()
    mine = resources.text_encoder(other)
    assert resources.text_encoder() is not mine
    assert resources.text_encoder(other) is mine
