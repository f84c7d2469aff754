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


README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.integration
def test_readme_example_stops_in_order_on_sigterm(tmp_path: pathlib.Path) -> None:
    """The README's example program: up in order, SIGTERM stops it in order, exit 0."""
    import os
    import signal
    import subprocess
    import sys
    import time

    if not README.exists():
        pytest.skip("README.md not available (testing an installed wheel)")
    block = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)[0]
    script = tmp_path / "app.py"
    script.write_text(block)
    child = subprocess.Popen(
        [sys.executable, "-u", str(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while not {"web: up", "cache: up"} <= set(lines):  # everything is up
            assert time.monotonic() < deadline, lines
            line = child.stdout.readline()
            assert line, f"the example exited early: {lines}"
            lines.append(line.strip())
        os.kill(child.pid, signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == 0, "\n".join(lines) + "\n" + out
    assert lines.index("database: up") < lines.index("cache: up")
    stops = [line for line in out.splitlines() if "shutting down" in line]
    assert stops.index("cache: SIGTERM, shutting down") < stops.index(
        "database: SIGTERM, shutting down"
    ), stops
