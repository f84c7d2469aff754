"""After os.fork(), the child can start, signal and stop new processes.

The fork happens inside a child interpreter (not in pytest itself): that
interpreter has live processes and warm pool threads, forks, and the forked
grandchild reports through its exit code; the waits have deadlines.
"""

from __future__ import annotations

import pytest

from _support import describe, run_python

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork"),
]

PARENT = """
import os, signal, sys, threading, time, traceback
import ifrit

def until_signal(signals, ready):
    ready()
    signals.get(timeout=30)

# live processes and warm idle threads at fork time
live = [ifrit.invoke(until_signal, timeout=10) for _ in range(4)]
for _ in range(20):
    p = ifrit.invoke(until_signal, timeout=10)
    p.signal()
    assert p.wait(timeout=10) is None

def child_work():
    ps = [ifrit.invoke(until_signal, timeout=10) for _ in range(10)]
    for p in ps:
        p.signal()
    if not all(p.wait(timeout=10) is None for p in ps):
        return 10
    mb = ifrit.Mailbox()
    ev = ifrit.Event()
    def forward(signals, ready):
        ready()
        mb.put(signals.get(timeout=10))
    q = ifrit.invoke(forward, timeout=10)
    q.signal(signal.SIGUSR1)
    if ifrit.select(ev, mb, timeout=10) != (1, signal.SIGUSR1):
        return 11
    if q.wait(timeout=10) is not None:
        return 12
    def fails(signals, ready):
        raise ValueError("x")
    try:
        ifrit.invoke(fails, timeout=10)
        return 13
    except ifrit.StartError as e:
        if not isinstance(e.error, ValueError):
            return 14
    with_timeout = ifrit.background(until_signal)
    try:
        with_timeout.wait(timeout=0.01)
        return 16
    except TimeoutError:
        pass
    with_timeout.signal()
    if with_timeout.wait(timeout=10) is not None:
        return 17
    return 0

pid = os.fork()
if pid == 0:
    code = 2
    try:
        code = child_work()
    except BaseException:
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        {child_exit}

status = []
waiter = threading.Thread(target=lambda: status.append(os.waitpid(pid, 0)[1]), daemon=True)
waiter.start()
waiter.join(30)
if not status:
    os.kill(pid, signal.SIGKILL)
    print("child hung", flush=True)
    os._exit(5)
rc = os.waitstatus_to_exitcode(status[0])
print("child rc", rc, flush=True)
# the parent's own processes still work
for p in live:
    p.signal()
ok = all(p.wait(timeout=10) is None for p in live)
print("parent ok", ok, flush=True)
sys.exit(0 if (rc == 0 and ok) else 1)
"""


@pytest.mark.parametrize(
    "child_exit",
    ["os._exit(code)", "sys.exit(code)"],
    ids=["os._exit", "normal-shutdown"],
)
def test_fork_child_can_invoke_and_stop_processes(child_exit):
    code = PARENT.replace("{child_exit}", child_exit)
    for _ in range(2):
        result = run_python(code, timeout=60)
        context = describe(result)
        assert "child rc 0" in result.stdout, context
        assert "parent ok True" in result.stdout, context
        assert result.returncode == 0, context


def test_fork_from_non_main_thread():
    code = """
    import os, signal, sys, threading, traceback
    import ifrit

    def until_signal(signals, ready):
        ready()
        signals.get(timeout=30)

    keep = ifrit.invoke(until_signal, timeout=10)
    result = []

    def forker():
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                p = ifrit.invoke(until_signal, timeout=10)
                p.signal()
                code = 0 if p.wait(timeout=10) is None else 1
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        result.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

    t = threading.Thread(target=forker, daemon=True)
    t.start()
    t.join(30)
    print("child rc", result, flush=True)
    keep.signal()
    sys.exit(0 if result == [0] and keep.wait(timeout=10) is None else 1)
    """
    result = run_python(code, timeout=60)
    assert result.returncode == 0 and "child rc [0]" in result.stdout, describe(result)
