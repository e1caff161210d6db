"""The injection screen's optional C extensions, built by ``pip install -e .`` (``make dev``).

Everything else is in pyproject.toml. Each extension is ``optional``: where it cannot be
compiled (no C compiler, no Python headers), the install goes on and the screen uses its
pure-Python path, which gives the same floats (``bastion/guards/injection/native.py``).
"""

import sys

from setuptools import Extension, setup

# A fused multiply-add would change the last bits of the n-gram sums: keep every product
# and sum rounded as the pure-Python path rounds it.
FLAGS = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off"]

setup(
    ext_modules=[
        Extension(
            f"bastion.guards.injection.{name}",
            [f"bastion/guards/injection/{name}.c"],
            extra_compile_args=FLAGS,
            optional=True,
        )
        for name in ("_window_logits", "_anchor_scan")
    ]
)
