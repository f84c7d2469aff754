"""ifrit.sigmon (SPEC section 4) and the core's signal subscriptions, in-process.

Signals are sent to this very process with os.kill / signal.pthread_kill; each
test only sends signals that a subscription it holds is watching.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

import ifrit
from ifrit import _core, sigmon
from ifrit.testing import FakeRunner, SignalRecorder

T = 10.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")


def subscribers(sig):
    return _core._sigbridge_subscribers(int(sig))


# -- the core subscription -------------------------------------------------------


def test_sigsub_select_value_is_signal_enum():
    with _core.SigSub(signal.SIGUSR1, signal.SIGUSR2) as sub:
        assert sub.signals == (signal.SIGUSR1, signal.SIGUSR2)
        os.kill(os.getpid(), signal.SIGUSR2)
        i, v = ifrit.select(ifrit.Event(), sub, timeout=T)
        assert (i, v) == (1, signal.SIGUSR2) and isinstance(v, signal.Signals)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
        assert sub.get(timeout=T) is signal.SIGUSR1
        assert sub.poll() is None and len(sub) == 0
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.01)
    assert sub.closed
    assert ifrit.select(sub, timeout=T) == (0, ifrit.CLOSED)
    with pytest.raises(ifrit.Closed):
        sub.get(timeout=T)


def test_sigsub_from_another_thread_and_two_subscribers():
    a = _core.SigSub(signal.SIGUSR1)
    b = _core.SigSub(signal.SIGUSR1)
    got = []
    t = threading.Thread(target=lambda: got.append(a.get(timeout=T)))
    t.start()
    signal.pthread_kill(t.ident, signal.SIGUSR1)
    t.join(T)
    assert got == [signal.SIGUSR1]
    assert b.get(timeout=T) == signal.SIGUSR1
    assert subscribers(signal.SIGUSR1) == 2
    a.close()
    b.close()
    assert subscribers(signal.SIGUSR1) == 0


def test_sigsub_rejects_bad_signals():
    with pytest.raises(ValueError):
        _core.SigSub(signal.SIGKILL)
    with pytest.raises(ValueError):
        _core.SigSub(0)
    with pytest.raises(TypeError):
        _core.SigSub("SIGINT")  # type: ignore[arg-type]


def test_sigint_handler_restored(default_sigint):
    with _core.SigSub(signal.SIGINT) as sub:
        os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: it is ours now
        assert sub.get(timeout=T) == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        ifrit.Event().wait(timeout=T)


# -- Sigmon ------------------------------------------------------------------------


def test_handlers_installed_before_runner_starts_and_restored_after():
    seen = []

    def runner(signals, ready):
        seen.append([subscribers(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)])
        ready()
        signals.get(timeout=T)

    before = [subscribers(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)]
    p = ifrit.invoke(sigmon.Sigmon(runner, signal.SIGUSR1), timeout=T)
    assert p.is_ready
    p.signal(signal.SIGUSR2)
    assert p.wait(T) is None
    assert seen == [[n + 1 for n in before]]
    assert [subscribers(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)] == before


def test_forwards_os_signals_and_own_signals(default_sigint):
    rec = SignalRecorder(signal.SIGTERM)
    p = ifrit.invoke(sigmon.new(rec, signal.SIGUSR1, signal.SIGHUP), timeout=T)
    os.kill(os.getpid(), signal.SIGUSR1)
    _wait_until(lambda: rec.received == [signal.SIGUSR1])
    p.signal(signal.SIGUSR2)
    _wait_until(lambda: rec.received == [signal.SIGUSR1, signal.SIGUSR2])
    os.kill(os.getpid(), signal.SIGHUP)
    _wait_until(lambda: len(rec.received) == 3)
    os.kill(os.getpid(), signal.SIGTERM)
    assert p.wait(T) is None
    assert rec.received == [signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGTERM]


def test_sigint_forwarded_not_keyboard_interrupt(default_sigint):
    rec = SignalRecorder()
    p = ifrit.invoke(sigmon.Sigmon(rec), timeout=T)
    os.kill(os.getpid(), signal.SIGINT)
    assert p.wait(T) is None  # the main thread never saw KeyboardInterrupt
    assert rec.received == [signal.SIGINT]


def test_ready_when_runner_ready_and_exit_error():
    fake = FakeRunner()
    p = ifrit.background(sigmon.Sigmon(fake))
    fake.wait_for_call(T)
    assert not p.is_ready
    fake.trigger_ready()
    assert p.wait_ready(T)
    err = RuntimeError("bye")
    fake.trigger_exit(err)
    assert p.wait(T) is err


def test_exit_before_ready():
    def bad(signals, ready):
        raise ValueError("no")

    with pytest.raises(ifrit.StartError) as info:
        ifrit.invoke(sigmon.Sigmon(bad), timeout=T)
    assert isinstance(info.value.error, ValueError)
    assert subscribers(signal.SIGTERM) == 0


def test_two_sigmons_both_see_each_delivery():
    a, b = SignalRecorder(), SignalRecorder()
    pa = ifrit.invoke(sigmon.Sigmon(a, signal.SIGUSR2), timeout=T)
    pb = ifrit.invoke(sigmon.Sigmon(b, signal.SIGUSR2), timeout=T)
    os.kill(os.getpid(), signal.SIGUSR2)
    _wait_until(lambda: a.received == [signal.SIGUSR2] and b.received == [signal.SIGUSR2])
    pa.signal(signal.SIGINT)
    pb.signal(signal.SIGINT)
    assert pa.wait(T) is None and pb.wait(T) is None
    assert subscribers(signal.SIGUSR2) == 0


def test_same_sigmon_runs_twice():
    s = sigmon.Sigmon(SignalRecorder())
    p1 = ifrit.invoke(s, timeout=T)
    p2 = ifrit.invoke(s, timeout=T)
    p1.signal(signal.SIGINT)
    assert p1.wait(T) is None
    assert not p2.is_exited
    p2.signal(signal.SIGINT)
    assert p2.wait(T) is None


def test_validation():
    with pytest.raises(TypeError):
        sigmon.Sigmon(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sigmon.Sigmon(SignalRecorder(), "SIGHUP")  # type: ignore[arg-type]
    s = sigmon.Sigmon(SignalRecorder(), signal.SIGHUP, signal.SIGINT)
    assert s.signals == (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)


def _wait_until(cond, timeout=T):
    ev = ifrit.Event()
    deadline = __import__("time").monotonic() + timeout
    while not cond():
        if __import__("time").monotonic() > deadline:
            raise AssertionError("condition not met in time")
        try:
            ev.wait(timeout=0.002)  # polling a condition, not ordering events
        except TimeoutError:
            pass
