"""Ctrl-C: a main thread blocked in any ifrit wait raises KeyboardInterrupt within 50 ms.

Each case runs a child interpreter that blocks in one kind of wait, ROUNDS times.
The test waits until the child's main thread sleeps in the kernel, records
time.monotonic() (CLOCK_MONOTONIC, shared by all processes on Linux), sends
SIGINT, and the child prints time.monotonic() when KeyboardInterrupt arrives.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

import ifrit
from _support import DEADLINE, Child, describe, run_python, thread_state

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and POSIX signals"),
]

CONTRACT = 0.050  # seconds, SPEC: "raises KeyboardInterrupt there within 50 ms"
ROUNDS = 3
ATTEMPTS = 2  # a loaded machine may be late once; a second child must then meet the contract

CHILD = """
import os, signal, sys, time, threading
import ifrit
signal.signal(signal.SIGINT, signal.default_int_handler)
TIMEOUT = {timeout!r}

def until_signal(signals, ready):
    ready()
    signals.get(timeout=120)

def never_ready(signals, ready):
    signals.get(timeout=120)

ev = ifrit.Event()
mb = ifrit.Mailbox()
view = ifrit.Mailbox().signals()
running = ifrit.invoke(until_signal, timeout=10)
unready = ifrit.background(never_ready)

for i in range({rounds}):
    try:
        print("ready", flush=True)
        {block}
    except KeyboardInterrupt:
        t = time.monotonic()
        print("ki", repr(t), flush=True)
    except BaseException as e:
        print("FAIL raised", repr(e), flush=True)
        os._exit(3)
    else:
        print("FAIL returned", flush=True)
        os._exit(3)
# the objects still work after the interrupts
running.signal()
unready.signal()
ok = running.wait(timeout=10) is None and unready.wait(timeout=10) is None
print("done", ok, flush=True)
os._exit(0 if ok else 4)
"""

BLOCKS = {
    "process.wait": "running.wait(timeout=TIMEOUT)",
    "process.wait_ready": "unready.wait_ready(timeout=TIMEOUT)",
    "signals.get": "view.get(timeout=TIMEOUT)",
    "mailbox.get": "mb.get(timeout=TIMEOUT)",
    "event.wait": "ev.wait(timeout=TIMEOUT)",
    "select": "ifrit.select(ev, mb, view, running.exit_event, unready.ready_event, timeout=TIMEOUT)",
    "invoke": "ifrit.invoke(never_ready, timeout=TIMEOUT)",
}


def _measure(block: str, timeout: float | None) -> list[float]:
    code = CHILD.format(timeout=timeout, rounds=ROUNDS, block=block)
    with Child(code) as child:
        delays = []
        for _ in range(ROUNDS):
            child.expect("ready", timeout=30)
            _wait_blocked(child)
            t_send = time.monotonic()
            os.kill(child.pid, signal.SIGINT)
            line = child.expect("ki", timeout=10)
            delays.append(float(line.split()[1]) - t_send)
        done = child.expect("done", timeout=DEADLINE)
        rc = child.finish(DEADLINE)
        assert rc == 0 and done == "done True", child.context()
    assert all(d > -0.001 for d in delays), delays
    return delays


def _wait_blocked(child: Child) -> None:
    deadline = time.monotonic() + DEADLINE
    while thread_state(child.pid) not in ("S", "D"):
        if time.monotonic() > deadline:
            raise AssertionError(f"child never blocked\n{child.context()}")
        time.sleep(0.001)  # polling a condition, not ordering events


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["forever", "timeout"])
@pytest.mark.parametrize("kind", list(BLOCKS))
def test_sigint_interrupts_blocked_main_thread(kind, timeout):
    attempts = []
    for _ in range(ATTEMPTS):
        delays = _measure(BLOCKS[kind], timeout)
        attempts.append(delays)
        if max(delays) < CONTRACT:
            break
    assert max(attempts[-1]) < CONTRACT, (
        f"{kind}: KeyboardInterrupt came {max(attempts[-1]) * 1000:.1f} ms after SIGINT "
        f"(contract {CONTRACT * 1000:.0f} ms); delays per attempt (s): {attempts}"
    )


def test_sigint_interrupts_signals_iteration():
    delays = _measure("next(iter(view))", None)
    assert max(delays) < CONTRACT, delays


def test_uncaught_keyboard_interrupt_ends_program_like_python():
    code = """
    import signal, ifrit
    signal.signal(signal.SIGINT, signal.default_int_handler)
    def until_signal(signals, ready):
        ready()
        signals.get(timeout=120)
    p = ifrit.invoke(until_signal, timeout=10)
    print("ready", flush=True)
    p.wait()
    print("FAIL returned", flush=True)
    """
    with Child(code) as child:
        child.expect("ready", timeout=30)
        _wait_blocked(child)
        os.kill(child.pid, signal.SIGINT)
        rc = child.finish(DEADLINE)
        assert rc == -signal.SIGINT, child.context()
        assert "KeyboardInterrupt" in child.stderr_text()


def test_sigint_in_process(default_sigint):
    """SIGINT delivered to this (pytest) process while its main thread waits on an ifrit.Event."""
    main = threading.main_thread()
    assert threading.current_thread() is main
    stop = threading.Event()
    sent = []

    def sender():
        deadline = time.monotonic() + DEADLINE
        while not stop.is_set() and time.monotonic() < deadline:
            if thread_state(os.getpid(), main.native_id) in ("S", "D"):
                sent.append(time.monotonic())
                signal.pthread_kill(main.ident, signal.SIGINT)
                return
            time.sleep(0.001)  # polling a condition

    t = threading.Thread(target=sender, daemon=True)
    e = ifrit.Event()
    caught_at = None
    t.start()
    try:
        try:
            e.wait(timeout=DEADLINE)
            result = "returned"
        except KeyboardInterrupt:
            caught_at = time.monotonic()
            result = "KeyboardInterrupt"
        except TimeoutError:
            result = "TimeoutError (SIGINT did not interrupt the wait)"
    except KeyboardInterrupt:
        result = "KeyboardInterrupt only after the wait ended"
    stop.set()
    t.join(DEADLINE)
    assert result == "KeyboardInterrupt", result
    assert sent and caught_at - sent[0] < CONTRACT * 2


def test_subprocess_helper_sanity():
    result = run_python("print('hello')", timeout=30)
    assert result.returncode == 0 and "hello" in result.stdout, describe(result)
