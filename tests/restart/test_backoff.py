"""ifrit.restart.Backoff (SPEC section 3): the timeline on a fake clock."""

from __future__ import annotations

import random
import signal
import threading

import pytest

import ifrit
from _support import posix_signals
from ifrit import _restart, restart
from ifrit.testing import FakeRunner

T = 10.0


class Boom(Exception):
    pass


class FakeClock:
    """clock() and sleep(signals, seconds) for Backoff: sleeping advances time,
    and a pending signal ends a sleep at once (as the real one does)."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.now

    def advance(self, dt):
        with self.lock:
            self.now += dt

    def sleep(self, signals, seconds):
        sig = signals.poll()
        if sig is not None:
            return sig
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds
        return None


class Failing:
    """Always raises ``error``; each run first takes ``durations[i]`` of fake time."""

    def __init__(self, clock, durations=(), error=Boom):
        self.clock = clock
        self.durations = list(durations)
        self.error = error
        self.runs = 0
        self.starts: list[float] = []

    def run(self, signals, ready):
        self.starts.append(self.clock())
        d = self.durations[self.runs] if self.runs < len(self.durations) else 0.0
        self.runs += 1
        self.clock.advance(d)
        raise self.error(f"run {self.runs}")


def backoff(runner, clock, **kw):
    kw.setdefault("jitter", 0.0)
    return restart.Backoff(runner, clock=clock, sleep=clock.sleep, **kw)


def test_exponential_delays_and_give_up_after_max_restarts():
    clock = FakeClock()
    runner = Failing(clock)
    p = ifrit.background(backoff(runner, clock, max_restarts=5))
    err = p.wait(T)
    assert runner.runs == 6  # max_restarts + 1
    assert str(err) == "run 6"
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert runner.starts == pytest.approx([0.0, 0.1, 0.3, 0.7, 1.5, 3.1])


def test_delays_capped_at_maximum():
    clock = FakeClock()
    runner = Failing(clock)
    p = ifrit.background(backoff(runner, clock, initial=1.0, factor=3.0, maximum=5.0, max_restarts=5))
    p.wait(T)
    assert clock.sleeps == pytest.approx([1.0, 3.0, 5.0, 5.0, 5.0])
    assert list(zip(range(4), restart.Backoff(runner, initial=2, maximum=1).delays())) == [
        (0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0)]


def test_jitter_bounds():
    clock = FakeClock()
    runner = Failing(clock)
    b = restart.Backoff(runner, clock=clock, sleep=clock.sleep, initial=1.0, factor=1.5,
                        maximum=20.0, jitter=0.25, max_restarts=200, rng=random.Random(7))
    ifrit.background(b).wait(T)
    assert len(clock.sleeps) == 200
    bases = [d for _, d in zip(range(200), b.delays())]
    for slept, base in zip(clock.sleeps, bases):
        assert base * 0.75 - 1e-9 <= slept <= base * 1.25 + 1e-9
    assert any(abs(s - b_) > 1e-6 for s, b_ in zip(clock.sleeps, bases))  # it does vary
    assert min(s / b_ for s, b_ in zip(clock.sleeps, bases)) < 0.9
    assert max(s / b_ for s, b_ in zip(clock.sleeps, bases)) > 1.1


def test_window_gives_up_inside_window():
    clock = FakeClock()
    runner = Failing(clock)
    p = ifrit.background(backoff(runner, clock, initial=1.0, factor=1.0, max_restarts=3, within=10.0))
    p.wait(T)
    assert runner.runs == 4
    assert runner.starts == [0.0, 1.0, 2.0, 3.0]


def test_window_slides():
    clock = FakeClock()
    # runs 1-2 fail at t=0, run 3 lasts 5 s: the first two restarts leave the
    # 3-second window, so two more restarts are allowed before giving up.
    runner = Failing(clock, durations=[0, 0, 5, 0, 0, 0])
    p = ifrit.background(backoff(runner, clock, initial=0.0, factor=1.0, max_restarts=2, within=3.0))
    p.wait(T)
    assert runner.runs == 5
    assert runner.starts == [0.0, 0.0, 0.0, 5.0, 5.0]


def test_window_none_counts_all_restarts():
    clock = FakeClock()
    runner = Failing(clock, durations=[100] * 10)
    p = ifrit.background(backoff(runner, clock, initial=0.0, max_restarts=3))
    p.wait(T)
    assert runner.runs == 4


def test_unlimited_restarts_until_success():
    clock = FakeClock()
    n = [0]

    def runner(signals, ready):
        n[0] += 1
        if n[0] < 50:
            raise Boom()

    p = ifrit.background(backoff(runner, clock, maximum=1.0))
    assert p.wait(T) is None
    assert n[0] == 50
    assert clock.sleeps[-1] == 1.0


def test_non_matching_error_and_clean_exit_stop_at_once():
    clock = FakeClock()
    runner = Failing(clock, error=KeyError)
    err = ifrit.background(backoff(runner, clock, retry_on=(Boom,))).wait(T)
    assert isinstance(err, KeyError) and runner.runs == 1 and clock.sleeps == []

    def clean(signals, ready):
        pass

    assert ifrit.background(backoff(clean, clock)).wait(T) is None
    assert clock.sleeps == []
    # retry_on may be a single class; KeyboardInterrupt is no Exception
    r = Failing(clock, error=KeyboardInterrupt)
    assert isinstance(ifrit.background(backoff(r, clock)).wait(T), KeyboardInterrupt)
    assert r.runs == 1
    r = Failing(clock, error=KeyboardInterrupt)
    ifrit.background(backoff(r, clock, retry_on=KeyboardInterrupt, max_restarts=1)).wait(T)
    assert r.runs == 2


def test_signal_ends_real_backoff_sleep_at_once():
    entered = ifrit.Event()

    def sleep(signals, seconds):
        assert seconds == pytest.approx(30.0)
        entered.set()
        return _restart._wait_for_signal(signals, seconds)

    runner = Failing(FakeClock())
    p = ifrit.invoke(lambda s, r: (r(), restart.Backoff(runner, initial=30.0, jitter=0.0,
                                                        sleep=sleep).run(s, lambda: None)),
                     timeout=T)
    entered.wait(T)
    p.signal(signal.SIGTERM)
    err = p.wait(5.0)  # far less than the 30 s sleep
    assert str(err) == "run 1"
    assert runner.runs == 1


def test_default_sleep_uses_select_timeout():
    clock_runs = []

    def runner(signals, ready):
        clock_runs.append(1)
        if len(clock_runs) < 3:
            raise Boom()

    b = restart.Backoff(runner, initial=0.01, jitter=0.0)
    assert ifrit.background(b).wait(T) is None
    assert len(clock_runs) == 3


def test_signal_pending_when_sleep_starts_stops():
    clock = FakeClock()
    fake = FakeRunner()
    p = ifrit.background(backoff(fake, clock))
    sigs = fake.wait_for_call(T)
    fake.trigger_ready()
    p.wait_ready(T)
    fake.trigger_exit(Boom("last"))
    fake.wait_for_call(T)
    assert clock.sleeps == [0.1]
    p.signal(signal.SIGINT)
    fake.trigger_exit(Boom("after signal"))
    assert str(p.wait(T)) == "after signal"
    assert fake.call_count == 2
    assert sigs.poll() is None


@posix_signals
def test_readiness_and_forwarding_like_restarter():
    clock = FakeClock()
    fake = FakeRunner()
    p = ifrit.background(backoff(fake, clock))
    fake.wait_for_call(T)
    fake.trigger_exit(Boom())  # not ready yet
    sigs = fake.wait_for_call(T)
    assert not p.is_ready
    fake.trigger_ready()
    assert p.wait_ready(T)
    p.signal(signal.SIGUSR1)
    assert sigs.get(timeout=T) == signal.SIGUSR1
    fake.trigger_exit(None)
    assert p.wait(T) is None


def test_same_backoff_runs_again_with_fresh_state():
    clock = FakeClock()
    runner = Failing(clock)
    b = backoff(runner, clock, max_restarts=3, within=100.0)
    ifrit.background(b).wait(T)
    first = list(clock.sleeps)
    clock.sleeps.clear()
    ifrit.background(b).wait(T)
    assert clock.sleeps == first == pytest.approx([0.1, 0.2, 0.4])
    assert runner.runs == 8


@pytest.mark.parametrize("kw", [
    {"initial": -1}, {"maximum": float("nan")}, {"factor": 0.5}, {"jitter": 1.5},
    {"max_restarts": -1}, {"max_restarts": 1.5}, {"within": 0}, {"initial": "1"},
])
def test_validation(kw):
    with pytest.raises(ValueError):
        restart.Backoff(lambda s, r: None, **kw)


def test_validation_types():
    with pytest.raises(TypeError):
        restart.Backoff(lambda s, r: None, retry_on=("x",))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        restart.Backoff(lambda s, r: None, clock=3)  # type: ignore[arg-type]
