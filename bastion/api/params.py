"""Integer parameters as the store holds them: ids, versions and sequence numbers are 64-bit.

A bigger number in a path, query or body is refused at the edge (a 422 naming the field),
not passed to the database, which cannot bind it (that was a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_INT64 = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_INT64)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_INT64)]
BodyId = Annotated[int, Field(ge=1, le=MAX_INT64)]
