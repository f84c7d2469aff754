"""Helpers shared by the pytest suite (imported by conftest.py and tests).

Nothing here synchronizes with sleeps: child interpreters are driven by the
lines they print, read with a deadline.
"""

from __future__ import annotations

import os
import select as _select
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

#: Deadline for blocking calls that are expected to return promptly.
DEADLINE = 10.0


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONFAULTHANDLER"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    if extra:
        env.update(extra)
    return env


def run_python(
    code: str, *, timeout: float = 60.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; raises ``subprocess.TimeoutExpired`` on hang."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"returncode={result.returncode}\n--- stdout ---\n{result.stdout}"
        f"\n--- stderr ---\n{result.stderr}"
    )


class Child:
    """A child interpreter driven line by line over its stdout, with deadlines."""

    def __init__(self, code: str, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=child_env(env),
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._buf = b""
        self.lines: list[str] = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def context(self) -> str:
        return (
            f"child pid={self.pid} rc={self.proc.poll()}\nlines so far: {self.lines!r}"
            f"\npending: {self._buf!r}\n--- stderr ---\n{self.stderr_text()}"
        )

    def readline(self, timeout: float = DEADLINE) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line from child within {timeout}s\n{self.context()}")
            readable, _, _ = _select.select([self._fd], [], [], remaining)
            if readable:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    self.proc.poll()
                    raise AssertionError(f"child closed its stdout\n{self.context()}")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\n")
        line = raw.decode(errors="replace").strip()
        self.lines.append(line)
        return line

    def expect(self, prefix: str, timeout: float = DEADLINE) -> str:
        """Read lines until one starts with ``prefix`` (other lines are kept in .lines)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line.startswith(prefix):
                return line
            if line.startswith(("FAIL", "Traceback")):
                raise AssertionError(f"child reported {line!r}\n{self.context()}")

    def finish(self, timeout: float = DEADLINE) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"child did not exit within {timeout}s\n{self.context()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


def thread_state(pid: int, tid: int | None = None) -> str:
    """The scheduler state letter (R, S, D, ...) of one thread of ``pid`` (Linux)."""
    with open(f"/proc/{pid}/task/{tid or pid}/stat") as f:
        data = f.read()
    return data.rsplit(")", 1)[1].split()[0]


def wait_until_blocked(pid: int, timeout: float = DEADLINE) -> None:
    """Poll until the main thread of ``pid`` sleeps in the kernel (a blocking wait)."""
    deadline = time.monotonic() + timeout
    while True:
        if thread_state(pid) in ("S", "D"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"main thread of {pid} never blocked within {timeout}s")
        time.sleep(0.001)  # polling a condition, not ordering events


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """Call fn; return ("ok", value) or ("raised", exception) — even for BaseException,
    so a KeyboardInterrupt/SystemExit that wrongly escapes cannot abort the session."""
    try:
        return ("ok", fn(*args, **kwargs))
    except BaseException as e:  # noqa: BLE001
        return ("raised", e)


# ---------------------------------------------------------------- runners


def until_signal(signals: Any, ready: Callable[[], None]) -> None:
    """Ready at once, exit cleanly on the first signal (or fail after 30 s)."""
    ready()
    signals.get(timeout=30)


def never_ready(signals: Any, ready: Callable[[], None]) -> None:
    """Never ready; exit cleanly on the first signal (or fail after 30 s)."""
    signals.get(timeout=30)



#: Marks a test that uses POSIX-only signal numbers (``signal.SIGUSR1``,
#: ``SIGHUP``, ``SIGKILL``, ...) as values: Windows' ``signal`` module lacks them.
posix_signals = __import__("pytest").mark.skipif(
    sys.platform == "win32", reason="uses POSIX signal numbers (SIGUSR1, SIGHUP, SIGKILL) absent on Windows"
)
