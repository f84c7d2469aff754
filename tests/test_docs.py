"""The tutorial's code blocks run, in order, in one namespace (as a reader
would paste them). Skipped when docs/ is not next to tests/ (wheel tests)."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

TUTORIAL = pathlib.Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"


def test_tutorial_code_runs() -> None:
    if not TUTORIAL.exists():
        pytest.skip("docs/ not available (testing an installed wheel)")
    blocks = re.findall(r"^```python\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "tutorial"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i, block in enumerate(blocks, 1):
            exec(compile(block, f"{TUTORIAL.name}[block {i}]", "exec"), namespace)
    text = out.getvalue()
    assert "failed to start: no config file" in text
    assert "Exit trace for group:\ncrash exited with error: lost the database\nok exited with nil" in text
