"""Serve a TrainedModel the way the registry would: its bytes in a file named by hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bastion.backends import Backend, ModelSpec, SharedResources, create_backend
from bastion.demo import TrainedModel


async def serve(model: TrainedModel, resources: SharedResources, root: Path) -> Backend:
    path = root / hashlib.sha256(model.artifact).hexdigest()
    path.write_bytes(model.artifact)
    spec = ModelSpec(model.name, 1, model.flavor, path, model.signature, model.params)
    backend = create_backend(spec, resources)
    await backend.load()
    return backend
