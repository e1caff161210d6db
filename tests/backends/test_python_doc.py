"""The example of docs/python-models.md runs as written, through the python backend."""

from __future__ import annotations

import re
from pathlib import Path

from bastion.backends.base import ModelSpec
from bastion.backends.python_fn import PythonBackend
from bastion.backends.resources import Resources

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python-models.md"


async def test_the_documented_python_model_answers_as_the_page_says(tmp_path: Path) -> None:
    [source] = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    path = tmp_path / "rules.py"
    path.write_text(source)
    spec = ModelSpec("rules", 1, "python", path, params={"entry_point": "predict"})
    backend = PythonBackend(spec, Resources())
    await backend.load()
    try:
        [p] = await backend.infer([{"amount": 25000}])
    finally:
        await backend.aclose()
    assert (p.output, p.confidence) == ({"label": "review"}, 1.0)
