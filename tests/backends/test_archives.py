"""Zip archives are refused before inflating beyond a size or ratio bound."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from bastion.backends.archives import check_archive
from bastion.errors import PayloadTooLarge


def _zip(**members: bytes) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_an_ordinary_archive_passes() -> None:
    check_archive(_zip(schema=b"{}", weights=os.urandom(2 << 20), zeros=b"\0" * 500_000))


def test_a_bomb_is_refused_by_ratio() -> None:
    with pytest.raises(PayloadTooLarge, match="zip bomb"):
        check_archive(_zip(schema=b"{}", data=b"\0" * (20 << 20)))


def test_an_archive_too_large_once_inflated_is_refused() -> None:
    with pytest.raises(PayloadTooLarge, match="would inflate to"):
        check_archive(_zip(data=os.urandom(3 << 20)), max_bytes=1 << 20)
