"""Many processes at once, and pool threads coming and going.

Run in child interpreters so that a crash in the core fails one test instead
of killing the whole session.
"""

from __future__ import annotations

import sys

import pytest

from _support import describe, run_python

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX child interpreters"),
]


@pytest.mark.parametrize("n", [17, 64, 256])
def test_many_processes_alive_at_once(n):
    code = f"""
    import ifrit
    N = {n}

    def until_signal(signals, ready):
        ready()
        signals.get(timeout=30)

    for round in range(3):
        procs = [ifrit.background(until_signal) for _ in range(N)]
        assert all(p.wait_ready(timeout=30) for p in procs)
        for p in procs:
            p.signal()
        assert all(p.wait(timeout=30) is None for p in procs)
    print("ok", flush=True)
    """
    result = run_python(code, timeout=90)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)


@pytest.mark.parametrize("n", [20, 64])
def test_many_processes_waiting_on_one_event(n):
    code = f"""
    import ifrit
    ev = ifrit.Event()
    mb = ifrit.Mailbox()

    def waiter(signals, ready):
        ready()
        ifrit.select(ev, mb, signals, timeout=30)

    procs = [ifrit.background(waiter) for _ in range({n})]
    assert all(p.wait_ready(timeout=30) for p in procs)
    ev.set()
    assert all(p.wait(timeout=30) is None for p in procs)
    print("ok", flush=True)
    """
    result = run_python(code, timeout=90)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)


def test_pool_trim_after_use():
    code = """
    import os, time, ifrit
    from ifrit import _core

    def quick(signals, ready):
        ready()

    for _ in range(3):
        procs = [ifrit.background(quick) for _ in range(8)]
        assert all(p.wait(timeout=30) is None for p in procs)
        # a process has exited a moment before its pool thread is idle again;
        # trim only touches idle threads, so wait until none is busy
        deadline = time.monotonic() + 10
        while _core.pool_stats()[0] != _core.pool_stats()[1] and time.monotonic() < deadline:
            time.sleep(0.001)  # polling a condition
        assert _core.pool_trim(10.0) is True
        # trimmed threads are on their way out; give the OS a moment to reap them
        deadline = time.monotonic() + 5
        while len(os.listdir("/proc/self/task")) > 1 and time.monotonic() < deadline:
            time.sleep(0.001)  # polling a condition
        threads = len(os.listdir("/proc/self/task"))
        assert threads == 1, threads
    p = ifrit.invoke(quick, timeout=10)  # the pool starts again after a trim
    assert p.wait(timeout=10) is None
    print("ok", flush=True)
    """
    result = run_python(code, timeout=60)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)


def test_idle_pool_threads_time_out_quietly():
    code = """
    import os, time, ifrit
    from ifrit import _core

    _core.set_pool(idle_timeout=0.05)

    def quick(signals, ready):
        ready()

    procs = [ifrit.background(quick) for _ in range(4)]
    assert all(p.wait(timeout=30) is None for p in procs)
    deadline = time.monotonic() + 10
    while len(os.listdir("/proc/self/task")) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling: idle workers leave after their idle timeout
    assert len(os.listdir("/proc/self/task")) == 1
    assert ifrit.invoke(quick, timeout=10).wait(timeout=10) is None
    print("ok", flush=True)
    """
    result = run_python(code, timeout=60)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)


def test_pool_settings_defaults_and_validation():
    code = """
    from ifrit import _core

    cfg = _core.pool_config()
    assert cfg == {"max_idle": 2**32 - 1, "idle_timeout": 30.0, "stack_size": 0,
                   "grow_futex_hash": True}, cfg
    _core.set_pool(max_idle=5, idle_timeout=1.5, stack_size=1 << 20, grow_futex_hash=False)
    assert _core.pool_config() == {"max_idle": 5, "idle_timeout": 1.5,
                                   "stack_size": 1 << 20, "grow_futex_hash": False}
    _core.set_pool(max_idle=10**12)  # more than the core can count: no limit
    assert _core.pool_config()["max_idle"] == 2**32 - 1
    _core.set_pool()  # nothing given: nothing changes
    assert _core.pool_config()["idle_timeout"] == 1.5
    for bad in ({"max_idle": -1}, {"idle_timeout": -0.5}, {"idle_timeout": float("nan")},
                {"stack_size": -1}):
        try:
            _core.set_pool(**bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"set_pool({bad}) accepted")
    print("ok", flush=True)
    """
    result = run_python(code, timeout=60)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)


def test_large_groups_start_and_stop_in_time():
    """2 000 member threads queue for the GIL through the core's admission
    (few go for it at a time, in order): nothing hangs or starves; Parallel
    and Ordered groups start and stop, also while a plain busy Python thread
    (which does not use ifrit) competes for the GIL, and that thread still
    gets its turns. (With a busy thread every GIL hand-off may wait for
    CPython's 5 ms switch interval, so the Ordered group is smaller then.)"""
    code = """
    import signal, threading, time, ifrit
    from ifrit import grouper

    def member(signals, ready):
        ready()
        signals.get(timeout=60)

    def start_stop(kind, n):
        g = kind([grouper.Member(f"m{i}", member) for i in range(n)])
        t0 = time.monotonic()
        p = ifrit.background(g)
        assert p.wait_ready(timeout=60), p.wait(timeout=0)
        p.signal(signal.SIGINT)
        assert p.wait(timeout=60) is None
        print(kind.__name__, n, round(time.monotonic() - t0, 3), flush=True)

    start_stop(grouper.Parallel, 2000)
    start_stop(grouper.Ordered, 2000)
    ticks = [0]
    stop = threading.Event()
    def busy():
        while not stop.is_set():
            ticks[0] += 1
    t = threading.Thread(target=busy)
    t.start()
    start_stop(grouper.Parallel, 2000)
    start_stop(grouper.Ordered, 100)
    stop.set()
    t.join(10)
    assert ticks[0] > 0
    print("ok", flush=True)
    """
    result = run_python(code, timeout=150)
    assert result.returncode == 0 and "ok" in result.stdout, describe(result)
