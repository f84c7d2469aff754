"""SPEC §6: the basic ifrit.testing kit (invoke, interrupt, kill, FakeRunner, SignalRecorder)."""

from __future__ import annotations

import signal
import threading

import pytest

import ifrit
from ifrit import testing
from _support import DEADLINE, posix_signals

# ------------------------------------------------------------------ invoke


def test_invoke_returns_ready_process(track):
    def ok_runner(signals, ready):
        ready()
        signals.get(timeout=DEADLINE)

    p = track(testing.invoke(ok_runner))
    assert isinstance(p, ifrit.Process)
    assert p.is_ready
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_invoke_fails_when_exiting_cleanly_before_ready():
    def quits_early_runner(signals, ready):
        return None

    with pytest.raises(AssertionError, match="quits_early_runner"):
        testing.invoke(quits_early_runner, timeout=DEADLINE)


def test_invoke_fails_when_failing_before_ready():
    def crashes_on_start(signals, ready):
        raise ValueError("cannot bind")

    with pytest.raises(AssertionError, match="crashes_on_start"):
        testing.invoke(crashes_on_start, timeout=DEADLINE)


def test_invoke_fails_on_timeout():
    done = threading.Event()

    def sluggish_starter(signals, ready):
        try:
            signals.get(timeout=2)  # ends by itself if nobody stops it
        except TimeoutError:
            pass
        done.set()

    with pytest.raises(AssertionError, match="sluggish_starter"):
        testing.invoke(sluggish_starter, timeout=0.05)
    assert done.wait(DEADLINE)


# ------------------------------------------------------------------ interrupt / kill


@pytest.mark.parametrize(
    ("helper", "expected"), [("interrupt", signal.SIGINT), ("kill", getattr(signal, "SIGKILL", 9))]
)
def test_interrupt_and_kill_send_signal_and_wait(track, helper, expected):
    seen = []

    def obedient(signals, ready):
        ready()
        seen.append(signals.get(timeout=DEADLINE))

    p = track(ifrit.invoke(obedient, timeout=DEADLINE))
    getattr(testing, helper)(p)
    assert p.is_exited
    assert seen == [expected]


@posix_signals
@pytest.mark.parametrize("helper", ["interrupt", "kill"])
def test_interrupt_and_kill_fail_if_process_does_not_exit(track, helper):
    seen = []

    def stubborn_worker(signals, ready):
        ready()
        while True:
            s = signals.get(timeout=DEADLINE)
            seen.append(s)
            if s == signal.SIGUSR2:
                return

    p = track(ifrit.invoke(stubborn_worker, timeout=DEADLINE))
    with pytest.raises(AssertionError, match="stubborn_worker"):
        getattr(testing, helper)(p, timeout=0.1)
    p.signal(signal.SIGUSR2)
    assert p.wait(timeout=DEADLINE) is None
    assert seen[0] == (signal.SIGINT if helper == "interrupt" else signal.SIGKILL)


def test_interrupt_already_exited_process(track):
    p = track(ifrit.background(lambda s, r: None, name="gone"))
    assert p.wait(timeout=DEADLINE) is None
    testing.interrupt(p, timeout=DEADLINE)
    testing.kill(p, timeout=DEADLINE)


# ------------------------------------------------------------------ FakeRunner


@posix_signals
def test_fake_runner_lifecycle(track):
    fake = testing.FakeRunner()
    assert fake.call_count == 0
    p = track(ifrit.background(fake))
    signals = fake.wait_for_call(timeout=DEADLINE)
    assert isinstance(signals, ifrit.Signals)
    assert fake.call_count == 1
    assert not p.is_ready
    fake.trigger_ready()
    assert p.wait_ready(timeout=DEADLINE) is True
    p.signal(signal.SIGUSR1)
    assert signals.get(timeout=DEADLINE) == signal.SIGUSR1
    error = ValueError("fake failure")
    fake.trigger_exit(error)
    assert p.wait(timeout=DEADLINE) is error


def test_fake_runner_clean_exit(track):
    fake = testing.FakeRunner()
    p = track(ifrit.background(fake))
    fake.wait_for_call(timeout=DEADLINE)
    fake.trigger_exit()
    assert p.wait(timeout=DEADLINE) is None
    assert not p.is_ready


def test_fake_runner_wait_for_call_times_out():
    fake = testing.FakeRunner()
    with pytest.raises(AssertionError):
        fake.wait_for_call(timeout=0.05)


@posix_signals
def test_fake_runner_wait_for_call_returns_each_calls_signals(track):
    fake = testing.FakeRunner()
    p1 = track(ifrit.background(fake))
    s1 = fake.wait_for_call(timeout=DEADLINE)
    p2 = track(ifrit.background(fake))
    s2 = fake.wait_for_call(timeout=DEADLINE)
    assert fake.call_count == 2
    assert s1 is not s2
    p1.signal(signal.SIGUSR1)
    p2.signal(signal.SIGUSR2)
    assert s1.get(timeout=DEADLINE) == signal.SIGUSR1
    assert s2.get(timeout=DEADLINE) == signal.SIGUSR2
    assert s1.poll() is None and s2.poll() is None
    fake.ensure_exit()
    assert p1.wait(timeout=DEADLINE) is None
    assert p2.wait(timeout=DEADLINE) is None


def test_fake_runner_ensure_exit_current_and_future(track):
    fake = testing.FakeRunner()
    p = track(ifrit.background(fake))
    fake.wait_for_call(timeout=DEADLINE)
    fake.ensure_exit()
    assert p.wait(timeout=DEADLINE) is None
    later = track(ifrit.background(fake))
    assert later.wait(timeout=DEADLINE) is None
    again = track(ifrit.background(fake))
    assert again.wait(timeout=DEADLINE) is None


def test_fake_runner_thread_safe(track):
    fake = testing.FakeRunner()
    n = 20
    procs = []
    barrier = threading.Barrier(n, timeout=DEADLINE)

    def start():
        barrier.wait()
        procs.append(ifrit.background(fake))

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    for p in procs:
        track(p)
    calls = [fake.wait_for_call(timeout=DEADLINE) for _ in range(n)]
    assert len({id(s) for s in calls}) == n
    assert fake.call_count == n
    # one trigger per run, from many threads at once (whether a trigger readies one
    # run or all current runs, every run is ready afterwards)
    triggers = [threading.Thread(target=fake.trigger_ready) for _ in range(n)]
    for t in triggers:
        t.start()
    for t in triggers:
        t.join(DEADLINE)
    for p in procs:
        assert p.wait_ready(timeout=DEADLINE) is True
    fake.ensure_exit()
    for p in procs:
        assert p.wait(timeout=DEADLINE) is None


def test_fake_runner_with_testing_invoke(track):
    fake = testing.FakeRunner()
    threading.Timer(0.05, fake.trigger_ready).start()  # only delays readiness
    p = track(testing.invoke(fake, timeout=DEADLINE))
    assert p.is_ready
    fake.ensure_exit()
    assert p.wait(timeout=DEADLINE) is None


# ------------------------------------------------------------------ SignalRecorder


@posix_signals
def test_signal_recorder_records_until_exit_signal(track):
    rec = testing.SignalRecorder(signal.SIGUSR1)
    assert rec.received == []
    p = track(ifrit.invoke(rec, timeout=DEADLINE))
    assert p.is_ready
    sent = [signal.SIGHUP, signal.SIGTERM, 1000, signal.SIGUSR2, signal.SIGUSR1]
    for s in sent:
        p.signal(s)
    assert p.wait(timeout=DEADLINE) is None
    assert rec.received == sent  # nothing before SIGUSR1 made it exit
    assert type(rec.received[1]) is signal.Signals and type(rec.received[2]) is int


@pytest.mark.parametrize("sig", [signal.SIGINT, getattr(signal, "SIGKILL", 9)])
def test_signal_recorder_always_exits_on_sigint_and_sigkill(track, sig):
    rec = testing.SignalRecorder()
    p = track(ifrit.invoke(rec, timeout=DEADLINE))
    p.signal(signal.SIGTERM)
    p.signal(sig)
    assert p.wait(timeout=DEADLINE) is None
    assert rec.received == [signal.SIGTERM, sig]


@posix_signals
def test_signal_recorder_received_is_a_copy(track):
    rec = testing.SignalRecorder(signal.SIGTERM)
    p = track(ifrit.invoke(rec, timeout=DEADLINE))
    p.signal(signal.SIGHUP)
    first = rec.received
    first.append("junk")
    assert "junk" not in rec.received
    assert rec.received is not rec.received
    p.signal(signal.SIGTERM)
    assert p.wait(timeout=DEADLINE) is None
    assert rec.received == [signal.SIGHUP, signal.SIGTERM]


@posix_signals
def test_signal_recorder_several_exit_signals(track):
    rec = testing.SignalRecorder(signal.SIGUSR1, signal.SIGUSR2)
    p = track(ifrit.invoke(rec, timeout=DEADLINE))
    p.signal(signal.SIGHUP)
    p.signal(signal.SIGUSR2)
    assert p.wait(timeout=DEADLINE) is None
    assert rec.received == [signal.SIGHUP, signal.SIGUSR2]
