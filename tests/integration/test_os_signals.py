"""Real OS signals to child interpreters running ifrit.run / sigmon.

Each child prints what happens, one line at a time; the parent drives it by
those lines (with deadlines) and by signals.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from _support import Child

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

T = 20.0

GROUP_APP = """
import signal, sys, threading
signal.signal(signal.SIGINT, signal.default_int_handler)
import ifrit
from ifrit import grouper

def member(name):
    def run(signals, ready):
        print(f"start {name}", flush=True)
        ready()
        sig = signals.get()
        print(f"stop {name} {sig.name}", flush=True)
    return run

class Top:
    # Counts SIGUSR1 (the storm), forwards anything else to the group.
    def __init__(self, group):
        self.group = group
    def run(self, signals, ready):
        p = ifrit.invoke(self.group)
        ready()
        print("READY", flush=True)
        usr1 = 0
        while True:
            i, v = ifrit.select(p.exit_event, signals)
            if i == 0:
                print(f"usr1 {usr1}", flush=True)
                if v is not None:
                    raise v
                return
            if v == signal.SIGUSR1:
                usr1 += 1
                if usr1 == 1:
                    print("storm seen", flush=True)
            else:
                p.signal(v)

group = grouper.Ordered([(n, member(n)) for n in ("db", "cache", "web")])
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)
def main():
    rc = ifrit.run(Top(group), signals=SIGNALS)
    print(f"rc {rc}", flush=True)
    return rc
if "thread" in sys.argv[1:] or THREAD:
    out = []
    t = threading.Thread(target=lambda: out.append(main()))
    t.start()
    t.join()
    sys.exit(out[0])
sys.exit(main())
"""


def group_child(thread=False):
    return Child(GROUP_APP.replace("THREAD", repr(thread)))


def expect_ordered_stop(child, sig_name):
    assert child.expect("stop ") == f"stop web {sig_name}"
    assert child.expect("stop ") == f"stop cache {sig_name}"
    assert child.expect("stop ") == f"stop db {sig_name}"
    child.expect("usr1 ")
    assert child.expect("rc ") == "rc 0"
    rc = child.finish(T)
    assert rc == 0, child.context()
    assert "Fatal" not in child.stderr_text()


def test_sigterm_stops_group_in_order_and_exits_0():
    with group_child() as child:
        child.expect("READY", T)
        assert [ln for ln in child.lines if ln.startswith("start")] == ["start db", "start cache", "start web"]
        os.kill(child.pid, signal.SIGTERM)
        expect_ordered_stop(child, "SIGTERM")


def test_sigint_stops_group_in_order_and_exits_0():
    with group_child() as child:
        child.expect("READY", T)
        os.kill(child.pid, signal.SIGINT)
        expect_ordered_stop(child, "SIGINT")


def test_run_from_non_main_thread_receives_sigterm():
    with group_child(thread=True) as child:
        child.expect("READY", T)
        os.kill(child.pid, signal.SIGTERM)
        expect_ordered_stop(child, "SIGTERM")


SIGMON_THEN_SIGINT = """
import signal, sys, threading
signal.signal(signal.SIGINT, signal.default_int_handler)
import ifrit
from ifrit import sigmon

def app(signals, ready):
    ready()
    print("READY", flush=True)
    print(f"got {signals.get().name}", flush=True)

# start the Sigmon from a non-main thread; the main thread just waits
p = []
t = threading.Thread(target=lambda: p.append(ifrit.invoke(sigmon.Sigmon(app))))
t.start(); t.join()
err = p[0].wait()
print(f"sigmon exited {err!r}", flush=True)
try:
    print("WAITING", flush=True)
    ifrit.Event().wait(timeout=30)
    print("FAIL no KeyboardInterrupt", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


def test_sigmon_from_thread_then_sigint_raises_keyboardinterrupt_again():
    with Child(SIGMON_THEN_SIGINT) as child:
        child.expect("READY", T)
        os.kill(child.pid, signal.SIGTERM)
        assert child.expect("got ") == "got SIGTERM"
        assert child.expect("sigmon exited") == "sigmon exited None"
        child.expect("WAITING", T)
        os.kill(child.pid, signal.SIGINT)
        child.expect("KeyboardInterrupt", T)
        assert child.finish(T) == 0


@pytest.mark.slow
def test_signal_storm_then_clean_ordered_shutdown():
    rate, seconds = 10_000, 5.0
    with group_child() as child:
        child.expect("READY", T)
        sent = 0
        start = time.perf_counter()
        end = start + seconds
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            due = int((now - start) * rate)
            while sent < due:
                os.kill(child.pid, signal.SIGUSR1)
                sent += 1
        assert child.proc.poll() is None, child.context()
        child.expect("storm seen", T)
        os.kill(child.pid, signal.SIGTERM)
        expect_ordered_stop(child, "SIGTERM")
        usr1 = [ln for ln in child.lines if ln.startswith("usr1 ")]
        n = int(usr1[0].split()[1])
        # the kernel merges a SIGUSR1 sent while one is still pending
        assert 1 <= n <= sent, (n, sent)
        assert sent >= rate * seconds * 0.9


FORK_UNDER_SIGMON = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import ifrit
from ifrit import _core, sigmon
from ifrit.testing import SignalRecorder

p = ifrit.invoke(sigmon.Sigmon(SignalRecorder()))
pid = os.fork()
if pid == 0:
    # the parent's Sigmon does not exist here: its handlers must not either
    assert _core._sigbridge_subscribers(signal.SIGINT) == 0
    try:
        os.kill(os.getpid(), signal.SIGINT)
        ifrit.Event().wait(timeout=10)
        os._exit(1)
    except KeyboardInterrupt:
        os._exit(0)
_, status = os.waitpid(pid, 0)
print(f"child {os.waitstatus_to_exitcode(status)}", flush=True)
os.kill(os.getpid(), signal.SIGINT)   # the parent's Sigmon still has it
print(f"parent {p.wait(timeout=10)!r}", flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_inherit_subscriptions():
    with Child(FORK_UNDER_SIGMON) as child:
        assert child.expect("child ", T) == "child 0"
        assert child.expect("parent ", T) == "parent None"
        assert child.finish(T) == 0
