"""Interpreter shutdown with processes that never exit: exit code 0, promptly, no crash."""

from __future__ import annotations

import sys
import time

import pytest

from _support import describe, run_python

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX child interpreters"),
]

PROMPT = 10.0  # seconds for the whole child run (interpreter start included; a hang hits the 30 s timeout)
RUNS = 4

SETUP = """
import signal, sys, threading, time
import ifrit

def blocked_in_get(signals, ready):
    ready()
    signals.get()

def cpu_busy(signals, ready):
    ready()
    x = 0
    while True:
        x += 1

def sleeping(signals, ready):
    ready()
    time.sleep(3600)

def event_waiter(signals, ready):
    ready()
    ifrit.Event().wait()

def never_ready(signals, ready):
    for s in signals:
        pass

inbox = ifrit.Mailbox()

def mailbox_reader(signals, ready):
    ready()
    inbox.get()

procs = [ifrit.invoke(r, timeout=10) for r in (blocked_in_get, cpu_busy, sleeping, event_waiter, mailbox_reader)]
procs.append(ifrit.background(never_ready))
assert all(p.is_ready for p in procs[:-1])
print("started", flush=True)
"""

ENDINGS = {
    "return-from-main": "",
    "sys.exit(0)": "sys.exit(0)",
    "exception-in-main": "raise RuntimeError('main failed')",
    "signaled-but-not-waited": "for p in procs: p.signal()",
}
EXPECTED_RC = {"exception-in-main": 1}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_shutdown_with_live_processes(ending):
    code = SETUP + ENDINGS[ending] + "\n"
    for i in range(RUNS):
        start = time.monotonic()
        result = run_python(code, timeout=30)
        elapsed = time.monotonic() - start
        context = f"run {i} ({ending}), {elapsed:.2f}s\n{describe(result)}"
        assert "started" in result.stdout, context
        assert result.returncode == EXPECTED_RC.get(ending, 0), context
        assert "Fatal Python error" not in result.stderr, context
        assert "Segmentation fault" not in result.stderr, context
        assert elapsed < PROMPT, context
        if ending == "exception-in-main":
            assert "RuntimeError: main failed" in result.stderr, context


def test_shutdown_with_busy_processes_started_from_threads():
    code = """
    import threading, ifrit

    def spin(signals, ready):
        ready()
        while True:
            pass

    started = []
    def starter():
        started.append(ifrit.invoke(spin, timeout=10))

    threads = [threading.Thread(target=starter) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    print("started", len(started), flush=True)
    """
    for i in range(RUNS):
        start = time.monotonic()
        result = run_python(code, timeout=30)
        elapsed = time.monotonic() - start
        context = f"run {i}, {elapsed:.2f}s\n{describe(result)}"
        assert "started 4" in result.stdout, context
        assert result.returncode == 0, context
        assert elapsed < PROMPT, context


def test_shutdown_right_after_start():
    # processes still starting (not yet running Python) when the interpreter goes away
    code = """
    import ifrit

    def until_signal(signals, ready):
        ready()
        signals.get()

    ps = [ifrit.background(until_signal) for _ in range(20)]
    """
    for i in range(RUNS):
        start = time.monotonic()
        result = run_python(code, timeout=30)
        elapsed = time.monotonic() - start
        context = f"run {i}, {elapsed:.2f}s\n{describe(result)}"
        assert result.returncode == 0, context
        assert elapsed < PROMPT, context
