"""SPEC §1: ifrit.invoke, StartError, StartTimeout."""

from __future__ import annotations

import signal
import threading
import time

import pytest

import ifrit
from _support import DEADLINE, never_ready, until_signal, posix_signals


def test_error_classes():
    assert issubclass(ifrit.StartError, Exception)
    assert issubclass(ifrit.StartTimeout, ifrit.StartError)
    assert issubclass(ifrit.StartTimeout, TimeoutError)


def test_invoke_returns_once_ready(track):
    go = threading.Event()
    after_ready = threading.Event()

    def runner(signals, ready):
        assert go.wait(DEADLINE)
        ready()
        after_ready.set()
        signals.get(timeout=DEADLINE)

    threading.Timer(0.05, go.set).start()  # only makes the runner slow
    p = track(ifrit.invoke(runner, timeout=DEADLINE))
    assert isinstance(p, ifrit.Process)
    assert p.is_ready and not p.is_exited
    assert after_ready.wait(DEADLINE)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_invoke_without_timeout(track):
    p = track(ifrit.invoke(until_signal))
    assert p.is_ready
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_invoke_returns_process_that_exited_cleanly_before_ready(track):
    def runner(signals, ready):
        return "ignored"

    p = track(ifrit.invoke(runner, timeout=DEADLINE))
    assert p.is_exited and not p.is_ready
    assert p.wait(timeout=DEADLINE) is None
    assert p.wait_ready(timeout=DEADLINE) is False


@pytest.mark.parametrize(
    "make_error",
    [lambda: ValueError("bad config"), lambda: KeyboardInterrupt(), lambda: SystemExit(2)],
    ids=["ValueError", "KeyboardInterrupt", "SystemExit"],
)
def test_invoke_raises_start_error_on_error_before_ready(track, make_error):
    error = make_error()

    def failing_runner(signals, ready):
        raise error

    with pytest.raises(BaseException) as info:
        ifrit.invoke(failing_runner, timeout=DEADLINE)
    exc = info.value
    assert isinstance(exc, ifrit.StartError), f"expected StartError, got {exc!r}"
    assert not isinstance(exc, ifrit.StartTimeout)
    assert exc.error is error
    assert exc.__cause__ is error
    assert isinstance(exc.process, ifrit.Process)
    track(exc.process)
    assert exc.process.name == "failing_runner"
    assert exc.process.is_exited
    assert exc.process.wait(timeout=DEADLINE) is error


def test_invoke_error_after_ready_is_not_start_error(track):
    go = threading.Event()

    def runner(signals, ready):
        ready()
        assert go.wait(DEADLINE)
        raise ValueError("later")

    p = track(ifrit.invoke(runner, timeout=DEADLINE))
    go.set()
    err = p.wait(timeout=DEADLINE)
    assert isinstance(err, ValueError) and str(err) == "later"


def test_invoke_timeout_sends_sigterm_and_raises_start_timeout(track):
    seen = []

    def slow_starter(signals, ready):
        seen.append(signals.get(timeout=DEADLINE))

    start = time.monotonic()
    with pytest.raises(ifrit.StartTimeout) as info:
        ifrit.invoke(slow_starter, timeout=0.1)
    elapsed = time.monotonic() - start
    exc = info.value
    assert isinstance(exc, ifrit.StartError) and isinstance(exc, TimeoutError)
    assert 0.09 <= elapsed < 5
    p = track(exc.process)
    assert isinstance(p, ifrit.Process)
    assert p.name == "slow_starter"
    assert p.wait(timeout=DEADLINE) is None
    assert seen == [signal.SIGTERM]


def test_invoke_timeout_catchable_as_builtin_timeout_error(track):
    with pytest.raises(TimeoutError) as info:
        ifrit.invoke(never_ready, timeout=0.05)
    p = track(info.value.process)
    assert p.wait(timeout=DEADLINE) is None


def test_invoke_timeout_zero(track):
    go = threading.Event()

    def runner(signals, ready):
        go.wait(DEADLINE)
        signals.get(timeout=DEADLINE)

    with pytest.raises(ifrit.StartTimeout) as info:
        ifrit.invoke(runner, timeout=0)
    go.set()
    assert track(info.value.process).wait(timeout=DEADLINE) is None


@posix_signals
def test_invoke_ready_in_time_does_not_signal(track):
    got = []

    def runner(signals, ready):
        ready()
        got.append(signals.get(timeout=DEADLINE))

    p = track(ifrit.invoke(runner, timeout=DEADLINE))
    p.signal(signal.SIGUSR1)
    assert p.wait(timeout=DEADLINE) is None
    assert got == [signal.SIGUSR1]


def test_invoke_name(track):
    p = track(ifrit.invoke(until_signal, name="invoked", timeout=DEADLINE))
    assert p.name == "invoked"
    p.signal()
    p.wait(timeout=DEADLINE)
