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
    """The README's example program: up in order, SIGTERM stops it in order, exit 0.

    Its runners print from different threads, so lines may interleave: the
    checks look for each message in the whole output, in order.
    """
    import os
    import signal
    import subprocess
    import sys
    import threading

    if not README.exists():
        pytest.skip("README.md not available (testing an installed wheel)")
    block = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)[0]
    script = tmp_path / "app.py"
    script.write_text(block)
    child = subprocess.Popen(
        [sys.executable, "-u", "-X", "faulthandler", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    chunks: list[bytes] = []
    changed = threading.Condition()

    def pump() -> None:  # read stdout on a thread so that every wait has a deadline
        assert child.stdout is not None
        while data := os.read(child.stdout.fileno(), 4096):
            with changed:
                chunks.append(data)
                changed.notify_all()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def text() -> str:
        with changed:
            return b"".join(chunks).decode()

    def diagnose(what: str) -> str:
        if child.poll() is None:  # faulthandler dumps every thread's stack on SIGABRT
            child.send_signal(signal.SIGABRT)
        try:
            _, err = child.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            _, err = child.communicate(timeout=10)
        return f"{what}; stdout: {text()!r}\nstderr:\n{err.decode()}"

    try:
        with changed:
            up = changed.wait_for(
                lambda: all(m in b"".join(chunks) for m in (b"web: up", b"cache: up")), timeout=30
            )
        if not up:
            pytest.fail(diagnose("the example did not come up within 30 s"))
        os.kill(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(diagnose("the example did not stop within 30 s of SIGTERM"))
        reader.join(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    out = text()
    assert child.returncode == 0, diagnose(f"exit code {child.returncode}")
    # the cache starts only once the database is ready, and stops first
    assert out.index("database: up") < out.index("cache: up"), out
    assert out.index("cache: SIGTERM, shutting down") < out.index(
        "database: SIGTERM, shutting down"
    ), out
    assert "web: SIGTERM, shutting down" in out, out
