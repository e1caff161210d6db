"""Zip archives from artifacts (skops files): refused before inflating when their members
would expand beyond a size or ratio bound, so a small upload cannot fill memory or disk."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from bastion.errors import PayloadTooLarge

MAX_INFLATED_BYTES = 2 * 1024**3  # every member together, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, per member and overall
_SMALL = 1 << 20  # members under 1 MiB inflated may have any ratio (a zeroed array)


def check_archive(
    source: Path | IO[bytes],
    *,
    max_bytes: int = MAX_INFLATED_BYTES,
    max_ratio: int = MAX_RATIO,
) -> None:
    """PayloadTooLarge (413) if the zip's declared sizes exceed the bounds.

    The declared sizes are what ``zipfile`` enforces while inflating (a member that inflates
    past its declared size fails with BadZipFile), so checking them bounds the real work.
    """
    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > max_bytes:
        raise PayloadTooLarge(
            f"the archive would inflate to {total} bytes; at most {max_bytes} are allowed"
        )
    for m in members:
        if m.file_size > _SMALL and m.file_size > max_ratio * max(m.compress_size, 1):
            raise PayloadTooLarge(
                f"archive member {m.filename!r} would inflate {m.file_size} bytes from "
                f"{m.compress_size} (more than {max_ratio}x): refused as a zip bomb"
            )
    if total > _SMALL and total > max_ratio * max(packed, 1):
        raise PayloadTooLarge(
            f"the archive would inflate to {total} bytes from {packed} (more than "
            f"{max_ratio}x): refused as a zip bomb"
        )
