"""ifrit.restart.Restarter and on_error (SPEC section 3)."""

from __future__ import annotations

import signal
import threading

import pytest

import ifrit
from _support import posix_signals
from ifrit import restart
from ifrit.testing import FakeRunner

T = 10.0


class Boom(Exception):
    pass


class Stop(BaseException):
    pass


class Flaky:
    """Fails with the next error of ``errors`` on each run (ready first if ``ready``)."""

    def __init__(self, errors, ready=True):
        self.errors = list(errors)
        self.ready = ready
        self.runs = 0
        self.lock = threading.Lock()

    def run(self, signals, ready):
        with self.lock:
            self.runs += 1
            error = self.errors.pop(0) if self.errors else None
        if self.ready:
            ready()
        if error is not None:
            raise error


def test_load_decides_each_restart_and_gets_runner_and_error():
    errors = [Boom("1"), Boom("2"), Boom("3")]
    flaky = Flaky(errors)
    seen = []

    def load(runner, error):
        seen.append((runner, error))
        return runner if len(seen) < 3 else None

    p = ifrit.invoke(restart.Restarter(flaky, load), timeout=T)
    err = p.wait(T)
    assert flaky.runs == 3
    assert [r for r, _ in seen] == [flaky] * 3
    assert [str(e) for _, e in seen] == ["1", "2", "3"]
    assert err is seen[-1][1]


def test_load_can_switch_runner_and_clean_exit_ends():
    first = Flaky([Boom("first")])
    second = Flaky([])  # exits cleanly
    calls = []

    def load(runner, error):
        calls.append(runner)
        return second if runner is first else None

    p = ifrit.background(restart.Restarter(first, load))
    assert p.wait(T) is None
    assert calls == [first, second]
    assert (first.runs, second.runs) == (1, 1)


def test_load_error_is_exit_error():
    def load(runner, error):
        raise KeyError("load failed")

    p = ifrit.background(restart.Restarter(Flaky([Boom()]), load))
    assert isinstance(p.wait(T), KeyError)


def test_load_must_be_callable():
    with pytest.raises(TypeError):
        restart.Restarter(Flaky([]), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        restart.Restarter(42, lambda r, e: None)  # type: ignore[arg-type]


def test_ready_follows_first_instance_that_becomes_ready():
    fake = FakeRunner()
    p = ifrit.background(restart.on_error(fake, Boom))
    fake.wait_for_call(T)
    fake.trigger_exit(Boom("before ready"))  # first instance never ready
    fake.wait_for_call(T)
    assert not p.is_ready
    fake.trigger_ready()
    assert p.wait_ready(T) is True
    fake.trigger_exit(Boom("after ready"))  # restarted; still ready
    sigs = fake.wait_for_call(T)
    assert p.is_ready and not p.is_exited
    p.signal(signal.SIGTERM)
    assert sigs.get(timeout=T) == signal.SIGTERM
    fake.trigger_exit(Boom("stopping"))
    err = p.wait(T)
    assert str(err) == "stopping"
    assert fake.call_count == 3  # signaled: no restart


def test_exit_before_any_ready_fails_invoke():
    flaky = Flaky([Boom("a"), ValueError("b")], ready=False)
    with pytest.raises(ifrit.StartError) as info:
        ifrit.invoke(restart.on_error(flaky, Boom), timeout=T)
    assert isinstance(info.value.error, ValueError)
    assert flaky.runs == 2


@posix_signals
def test_signals_forwarded_and_no_restart_after_signal():
    fake = FakeRunner()
    p = ifrit.background(restart.on_error(fake, Boom))
    sigs = fake.wait_for_call(T)
    fake.trigger_ready()
    p.wait_ready(T)
    p.signal(signal.SIGUSR1)
    p.signal(signal.SIGINT)
    assert sigs.get(timeout=T) == signal.SIGUSR1
    assert sigs.get(timeout=T) == signal.SIGINT
    fake.trigger_exit(Boom("would restart"))
    assert str(p.wait(T)) == "would restart"
    assert fake.call_count == 1


def test_signal_and_exit_together_signal_wins():
    holder = {}
    runs = []

    def runner(signals, ready):
        runs.append(1)
        ready()
        holder["p"].signal(signal.SIGTERM)  # queued before this run exits
        raise Boom("together")

    gate = threading.Event()
    r = restart.on_error(runner, Boom)

    def start(signals, ready):
        gate.wait(T)
        r.run(signals, ready)

    holder["p"] = p = ifrit.background(start)
    gate.set()
    assert str(p.wait(T)) == "together"
    assert runs == [1]


def test_on_error_matching_rules():
    class Eq(Exception):
        def __eq__(self, other):
            return isinstance(other, Eq) and other.args == self.args

        __hash__ = Exception.__hash__

    same = Boom("same")
    cases = [
        ((Boom,), Boom("x"), True),  # class: isinstance
        ((Exception,), Boom("x"), True),
        ((ValueError,), Boom("x"), False),
        ((same,), same, True),  # identity
        ((Boom("same"),), Boom("same"), False),  # neither identical nor equal
        ((Eq("k"),), Eq("k"), True),  # equality
        ((Eq("k"),), Eq("j"), False),
        ((Boom,), None, False),  # a clean exit never matches ...
        ((None,), None, True),  # ... unless None is listed
    ]
    for errors, error, restarts in cases:
        flaky = Flaky([error, Stop()])  # Stop matches nothing: at most one restart
        p = ifrit.background(restart.on_error(flaky, *errors))
        p.wait(T)
        assert flaky.runs == (2 if restarts else 1), (errors, error)


def test_on_error_validates_errors():
    with pytest.raises(TypeError):
        restart.on_error(Flaky([]), "not an error")  # type: ignore[arg-type]


@posix_signals
def test_same_restarter_runs_twice_at_once_independently():
    fake = FakeRunner()
    r = restart.on_error(fake, Boom)
    p1 = ifrit.background(r)
    s1 = fake.wait_for_call(T)
    p2 = ifrit.background(r)
    s2 = fake.wait_for_call(T)
    fake.trigger_ready()
    fake.trigger_ready()
    assert p1.wait_ready(T) and p2.wait_ready(T)
    p1.signal(signal.SIGINT)
    p2.signal(signal.SIGUSR2)
    assert {s1.get(timeout=T), s2.get(timeout=T)} == {signal.SIGINT, signal.SIGUSR2}
    fake.trigger_exit(None)
    fake.trigger_exit(None)
    assert p1.wait(T) is None and p2.wait(T) is None
    assert fake.call_count == 2
    # and it can run again
    flaky = Flaky([Boom(), Boom(), None])
    r2 = restart.on_error(flaky, Boom)
    assert ifrit.background(r2).wait(T) is None
    flaky.errors = [Boom(), None]
    assert ifrit.background(r2).wait(T) is None
    assert flaky.runs == 5


def test_many_restarts():
    flaky = Flaky([Boom()] * 2000)
    p = ifrit.background(restart.on_error(flaky, Boom))
    assert p.wait(60) is None
    assert flaky.runs == 2001


def test_signal_taken_by_runner_still_prevents_restart():
    # The runner takes the signal itself and then fails with a restartable
    # error: the restarter was signaled, so it must not restart.
    runs = []

    def runner(signals, ready):
        runs.append(1)
        ready()
        signals.get(timeout=T)
        raise Boom("after taking the signal")

    p = ifrit.invoke(restart.on_error(runner, Boom), timeout=T)
    p.signal(signal.SIGTERM)
    assert str(p.wait(T)) == "after taking the signal"
    assert runs == [1]


def test_each_run_gets_a_fresh_context():
    import contextvars

    var = contextvars.ContextVar("var", default="outer")
    seen = []

    def runner(signals, ready):
        seen.append(var.get())
        var.set(f"run {len(seen)}")
        if len(seen) < 3:
            raise Boom()

    var.set("caller")
    p = ifrit.background(restart.on_error(runner, Boom))
    assert p.wait(T) is None
    assert seen == ["caller", "caller", "caller"]
    assert var.get() == "caller"
