"""SPEC §2: Parallel, Ordered and QueueOrdered — start, stop, signals, errors."""

from __future__ import annotations

import signal

import pytest

import ifrit
from ifrit import grouper
from ifrit.grouper import ErrorTrace, Member

from _gsupport import DEADLINE, Log, Worker, stop, until_signal

# SIGUSR1 is only a value sent through mailboxes here; Windows has no such name.
INT, TERM, USR1 = signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGUSR1", 10)
GROUPS = [grouper.Parallel, grouper.Ordered, grouper.QueueOrdered]
ORDERED = [grouper.Ordered, grouper.QueueOrdered]


def stop_order(group, names):
    """The order in which ``group`` stops members started in ``names`` order."""
    if group is grouper.Ordered:
        return list(reversed(names))
    return list(names)


def strictly_one_at_a_time(log, order):
    """Each member in ``order`` was signaled, then exited, before the next was signaled."""
    events = [i for i in log.items if i[0] in ("signal", "exit") and i[1] in order]
    expected = []
    for name in order:
        expected += [("signal", name, INT), ("exit", name)]
    assert events == expected


# ------------------------------------------------------------ empty groups


@pytest.mark.parametrize("group", GROUPS)
def test_empty_group_ready_at_once_runs_until_signaled(group, track):
    p = track(ifrit.background(group([])))
    assert p.wait_ready(DEADLINE) is True
    with pytest.raises(TimeoutError):
        p.wait(0.05)  # still running: nothing makes it exit but a signal
    assert stop(p, TERM) is None


# ------------------------------------------------------------ start


def test_parallel_starts_all_at_once_ready_when_all_ready(track):
    log = Log()
    gates = [ifrit.Event() for _ in range(3)]
    members = [Member(n, Worker(n, log, ready_gate=g)) for n, g in zip("abc", gates)]
    p = track(ifrit.background(grouper.Parallel(members)))
    for n in "abc":
        log.wait_for("start", n)  # every member started, none ready
    gates[2].set()
    gates[0].set()
    log.wait_for("ready", "a")
    log.wait_for("ready", "c")
    assert not p.is_ready  # b is not ready yet: the group cannot be
    gates[1].set()
    assert p.wait_ready(DEADLINE)
    assert stop(p) is None


@pytest.mark.parametrize("group", ORDERED)
def test_ordered_starts_each_when_previous_ready(group, track):
    log = Log()
    gates = [ifrit.Event() for _ in range(3)]
    members = [Member(n, Worker(n, log, ready_gate=g)) for n, g in zip("abc", gates)]
    p = track(ifrit.background(group(members)))
    log.wait_for("start", "a")
    assert log.of("start") == [("a",)]  # b waits for a to be ready
    gates[0].set()
    log.wait_for("start", "b")
    gates[1].set()
    log.wait_for("start", "c")
    assert not p.is_ready
    gates[2].set()
    assert p.wait_ready(DEADLINE)
    starts = [i for i in log.items if i[0] in ("start", "ready")]
    assert starts == [(k, n) for n in "abc" for k in ("start", "ready")]
    assert stop(p) is None


# ------------------------------------------------------------ stop order


def test_parallel_signals_every_member_at_once(track):
    log = Log()
    gate = ifrit.Event()
    members = [Member("a", Worker("a", log, stop_gate=gate))]
    members += [Member(n, Worker(n, log)) for n in "bcd"]
    p = track(ifrit.background(grouper.Parallel(members)))
    assert p.wait_ready(DEADLINE)
    p.signal(INT)
    for n in "bcd":  # all signaled and exited while a is still stopping
        log.wait_for("exit", n)
    assert ("exit", "a") not in log.items and not p.is_exited
    gate.set()
    assert p.wait(DEADLINE) is None
    assert ("exit", "a") in log.items


@pytest.mark.parametrize("group", ORDERED)
def test_ordered_stop_one_at_a_time_with_different_stop_times(group, track):
    log = Log()
    delays = {"a": 0.0, "b": 0.06, "c": 0.0, "d": 0.03, "e": 0.01}
    members = [Member(n, Worker(n, log, stop_delay=d)) for n, d in delays.items()]
    p = track(ifrit.background(group(members)))
    assert p.wait_ready(DEADLINE)
    assert stop(p, INT) is None
    strictly_one_at_a_time(log, stop_order(group, list(delays)))


@pytest.mark.parametrize("group", ORDERED)
def test_ordered_waits_for_each_exit_before_the_next(group, track):
    log = Log()
    gate = ifrit.Event()
    first = stop_order(group, ["a", "b", "c"])[0]
    members = [Member(n, Worker(n, log, stop_gate=gate if n == first else None)) for n in "abc"]
    p = track(ifrit.background(group(members)))
    assert p.wait_ready(DEADLINE)
    p.signal(INT)
    log.wait_for("signal", first, INT)
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    assert log.of("signal") == [(first, INT)]  # nobody else signaled yet
    gate.set()
    assert p.wait(DEADLINE) is None
    strictly_one_at_a_time(log, stop_order(group, ["a", "b", "c"]))


# ------------------------------------------------------------ signals during shutdown


def test_parallel_signal_changes_during_stop(track):
    log = Log()
    members = [Member(n, Worker(n, log, exit_on={TERM})) for n in "abc"]
    p = track(ifrit.background(grouper.Parallel(members)))
    assert p.wait_ready(DEADLINE)
    p.signal(INT)
    p.signal(INT)  # equal to the stop signal: ignored
    p.signal(TERM)  # different: forwarded to every live member
    assert p.wait(DEADLINE) is None
    for n in "abc":
        assert [s for (m, s) in log.of("signal") if m == n] == [INT, TERM]


def test_parallel_signaled_twice_during_stop_waits_for_every_member(track):
    log = Log()
    gates = {n: ifrit.Event() for n in "abc"}
    members = [Member(n, Worker(n, log, exit_on={TERM}, stop_gate=gates[n])) for n in "abc"]
    p = track(ifrit.background(grouper.Parallel(members)))
    assert p.wait_ready(DEADLINE)
    p.signal(INT)
    p.signal(TERM)
    p.signal(INT)
    for n in "abc":
        log.wait_for("signal", n, INT)
        log.wait_for("signal", n, TERM)
    gates["b"].set()
    log.wait_for("exit", "b")
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    gates["a"].set()
    log.wait_for("exit", "a")
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    gates["c"].set()
    assert p.wait(DEADLINE) is None
    assert len(log.of("exit")) == 3


@pytest.mark.parametrize("group", ORDERED)
def test_ordered_different_signal_reaches_member_being_stopped_and_the_rest(group, track):
    log = Log()
    members = [Member(n, Worker(n, log, exit_on={TERM})) for n in "abc"]
    p = track(ifrit.background(group(members)))
    assert p.wait_ready(DEADLINE)
    first, *rest = stop_order(group, ["a", "b", "c"])
    p.signal(INT)  # the first one to stop ignores INT
    log.wait_for("signal", first, INT)
    p.signal(INT)  # repeated: ignored, the member being stopped does not get it again
    p.signal(TERM)  # different: forwarded to it at once, and the rest get TERM
    assert p.wait(DEADLINE) is None
    by_member = {n: [s for (m, s) in log.of("signal") if m == n] for n in "abc"}
    assert by_member[first] == [INT, TERM]
    for n in rest:
        assert by_member[n] == [TERM]
    assert [n for (n,) in log.of("exit")] == [first, *rest]


# ------------------------------------------------------------ signal during start


@pytest.mark.parametrize("group", ORDERED)
def test_ordered_signal_during_start_stops_starting(group, track):
    log = Log()
    never = ifrit.Event()
    members = [
        Member("a", Worker("a", log)),
        Member("b", Worker("b", log, ready_gate=never)),
        Member("c", Worker("c", log)),
    ]
    p = track(ifrit.background(group(members)))
    log.wait_for("start", "b")
    p.signal(TERM)
    assert p.wait(DEADLINE) is None
    assert not p.is_ready
    assert ("start", "c") not in log.items  # never started, never signaled
    assert all(n != "c" for (n, _) in log.of("signal"))
    sig_order = [n for (n, s) in log.of("signal")]
    assert sig_order == stop_order(group, ["a", "b"])
    assert all(s == TERM for (_, s) in log.of("signal"))


def test_parallel_signal_during_start_stops_started_members(track):
    log = Log()
    never = ifrit.Event()
    members = [Member("a", Worker("a", log)), Member("b", Worker("b", log, ready_gate=never))]
    p = track(ifrit.background(grouper.Parallel(members)))
    log.wait_for("start", "b")
    p.signal(TERM)
    assert p.wait(DEADLINE) is None
    assert not p.is_ready
    assert sorted(log.of("signal")) == [("a", TERM), ("b", TERM)]


# ------------------------------------------------------------ member exits


@pytest.mark.parametrize("group", GROUPS)
def test_clean_exit_during_start_ends_group_cleanly_without_ready(group, track):
    log = Log()
    quit_now = ifrit.Event()
    quit_now.set()
    never = ifrit.Event()
    members = [
        Member("a", Worker("a", log)),
        Member("b", Worker("b", log, ready_gate=never, exit_gate=quit_now)),
        Member("c", Worker("c", log, ready_gate=never)),
    ]
    p = track(ifrit.background(group(members)))
    assert p.wait(DEADLINE) is None
    assert p.wait_ready(0) is False
    if group is not grouper.Parallel:
        assert ("start", "c") not in log.items
    # the others got the termination signal
    assert ("a", INT) in log.of("signal")
    assert ("b", INT) not in log.of("signal")


@pytest.mark.parametrize("group", GROUPS)
def test_error_exit_during_start_raises_error_trace(group, track):
    log = Log()
    boom = ValueError("boom")
    quit_now = ifrit.Event()
    quit_now.set()
    members = [
        Member("a", Worker("a", log)),
        Member("b", Worker("b", log, ready=False, exit_gate=quit_now, error=boom)),
        Member("c", Worker("c", log)),
    ]
    p = track(ifrit.background(group(members)))
    err = p.wait(DEADLINE)
    assert not p.wait_ready(0)
    assert isinstance(err, ErrorTrace)
    assert err.exceptions == (boom,)
    assert err.trace[0].member.name == "b" and err.trace[0].error is boom
    names = [e.member.name for e in err.trace]
    if group is grouper.Parallel:
        assert sorted(names) == ["a", "b", "c"]
    else:
        assert names == ["b", "a"]
        assert ("start", "c") not in log.items
    assert str(err).startswith("Exit trace for group:\nb exited with error: boom\n")


@pytest.mark.parametrize("group", GROUPS)
def test_member_exit_after_ready_stops_group_with_termination_signal(group, track):
    log = Log()
    boom = RuntimeError("crash")
    exit_b = ifrit.Event()
    members = [
        Member(n, Worker(n, log, exit_on={USR1}, exit_gate=exit_b if n == "b" else None,
                         error=boom if n == "b" else None))
        for n in "abcd"
    ]
    p = track(ifrit.background(group(members, termination_signal=USR1)))
    assert p.wait_ready(DEADLINE)
    exit_b.set()
    err = p.wait(DEADLINE)
    assert isinstance(err, ErrorTrace)
    assert [e.member.name for e in err.trace][0] == "b"
    rest = [e.member.name for e in err.trace][1:]
    if group is grouper.Parallel:
        assert sorted(rest) == ["a", "c", "d"]
    else:
        assert rest == [n for n in stop_order(group, list("abcd")) if n != "b"]
    assert [e.error for e in err.trace] == [boom, None, None, None]
    assert sorted(log.of("signal")) == [("a", USR1), ("c", USR1), ("d", USR1)]
    lines = str(err).splitlines()
    assert lines[0] == "Exit trace for group:"
    assert lines[1] == "b exited with error: crash"
    assert all(line.endswith("exited with nil") for line in lines[2:])


@pytest.mark.parametrize("group", GROUPS)
def test_clean_member_exit_after_ready_ends_group_cleanly(group, track):
    log = Log()
    exit_a = ifrit.Event()
    members = [Member(n, Worker(n, log, exit_gate=exit_a if n == "a" else None)) for n in "abc"]
    p = track(ifrit.background(group(members)))
    assert p.wait_ready(DEADLINE)
    exit_a.set()
    assert p.wait(DEADLINE) is None
    assert sorted(log.of("signal")) == [("b", INT), ("c", INT)]


@pytest.mark.parametrize("group", GROUPS)
def test_none_termination_signal_is_never_sent(group, track):
    log = Log()
    exit_a = ifrit.Event()
    members = [Member(n, Worker(n, log, exit_gate=exit_a if n == "a" else None)) for n in "abc"]
    p = track(ifrit.background(group(members, termination_signal=None)))
    assert p.wait_ready(DEADLINE)
    exit_a.set()
    log.wait_for("exit", "a")
    with pytest.raises(TimeoutError):
        p.wait(0.05)  # still waiting for b and c, which got no signal
    p.signal(TERM)  # a group signal still stops them
    assert p.wait(DEADLINE) is None
    assert sorted(log.of("signal")) == [("b", TERM), ("c", TERM)]


@pytest.mark.parametrize("group", GROUPS)
def test_none_termination_signal_members_exiting_on_their_own(group, track):
    log = Log()
    gates = {n: ifrit.Event() for n in "abc"}
    members = [Member(n, Worker(n, log, exit_gate=gates[n])) for n in "abc"]
    p = track(ifrit.background(group(members, termination_signal=None)))
    assert p.wait_ready(DEADLINE)
    for n in "bca":
        gates[n].set()
    assert p.wait(DEADLINE) is None
    assert log.of("signal") == []


@pytest.mark.parametrize("group", GROUPS)
def test_errors_while_stopping_are_collected(group, track):
    log = Log()
    errors = {"a": ValueError("a-err"), "c": KeyboardInterrupt()}
    members = [Member(n, Worker(n, log, error=errors.get(n))) for n in "abc"]
    p = track(ifrit.background(group(members)))
    assert p.wait_ready(DEADLINE)
    err = stop(p, TERM)
    assert isinstance(err, ErrorTrace)
    assert len(err.trace) == 3
    if group is not grouper.Parallel:
        assert [e.member.name for e in err.trace] == stop_order(group, list("abc"))
    kinds = sorted(type(x).__name__ for x in err.exceptions)
    assert kinds == ["RuntimeError", "ValueError"]
    wrapped = next(x for x in err.exceptions if isinstance(x, RuntimeError))
    assert wrapped.__cause__ is errors["c"]
    assert any(e.error is errors["c"] for e in err.trace)
    with pytest.raises(ExceptionGroup):  # except* works on it
        try:
            raise err
        except* ValueError as eg:
            assert eg.exceptions == (errors["a"],)


def test_group_returns_only_after_every_started_member_exited(track):
    """A member that ignores the first signal keeps a Parallel group alive."""
    log = Log()
    members = [Member("stubborn", Worker("stubborn", log, exit_on={TERM}))]
    members += [Member(n, Worker(n, log)) for n in "ab"]
    p = track(ifrit.background(grouper.Parallel(members)))
    assert p.wait_ready(DEADLINE)
    p.signal(INT)
    log.wait_for("exit", "a")
    log.wait_for("exit", "b")
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    p.signal(TERM)
    assert p.wait(DEADLINE) is None


# ------------------------------------------------------------ state per run, nesting


@pytest.mark.parametrize("group", GROUPS)
def test_same_group_object_runs_twice_concurrently_and_again(group, track):
    log = Log()
    g = group([Member(n, Worker(n, log)) for n in "abc"])
    p1 = track(ifrit.background(g))
    p2 = track(ifrit.background(g))
    assert p1.wait_ready(DEADLINE) and p2.wait_ready(DEADLINE)
    assert len(log.of("start")) == 6
    assert stop(p1) is None
    assert len(log.of("exit")) == 3
    assert not p2.is_exited
    assert stop(p2) is None
    assert len(log.of("exit")) == 6
    p3 = track(ifrit.background(g))
    assert p3.wait_ready(DEADLINE)
    assert stop(p3) is None
    assert len(log.of("exit")) == 9


def test_groups_nest(track):
    log = Log()
    inner = grouper.Ordered([Member(n, Worker(n, log)) for n in "xy"])
    outer = grouper.Ordered([("first", Worker("first", log)), ("inner", inner), ("last", Worker("last", log))])
    p = track(ifrit.invoke(outer, timeout=DEADLINE))
    assert stop(p) is None
    assert [n for (n,) in log.of("exit")] == ["last", "y", "x", "first"]


def test_nested_error_trace(track):
    boom = ValueError("inner boom")

    def bad(signals, ready):
        raise boom

    outer = grouper.Parallel([("inner", grouper.Parallel([("bad", bad)])), ("ok", until_signal)])
    p = track(ifrit.background(outer))
    err = p.wait(DEADLINE)
    assert isinstance(err, ErrorTrace)
    inner_err = err.trace[0].error
    assert isinstance(inner_err, ErrorTrace) and inner_err.exceptions == (boom,)
    assert "inner exited with error: Exit trace for group:" in str(err)
    caught = []
    try:
        raise err
    except* ValueError as eg:  # except* reaches nested members' errors
        caught.append(eg)
    assert caught[0].exceptions[0].exceptions == (boom,)


@pytest.mark.parametrize("group", GROUPS)
def test_many_members(group, track):
    n = 300
    g = group([Member(f"m{i}", until_signal) for i in range(n)])
    p = track(ifrit.background(g))
    assert p.wait_ready(30)
    assert stop(p, TERM, 30) is None


def test_repr():
    g = grouper.Ordered([(f"m{i}", until_signal) for i in range(7)])
    assert repr(g).startswith("grouper.Ordered(['m0', 'm1'")
    assert "7 members" in repr(g)


@pytest.mark.parametrize("group", ORDERED)
def test_with_fake_runners_exit_during_start(group, track):
    from ifrit.testing import FakeRunner, SignalRecorder

    a, b, c = FakeRunner("a"), FakeRunner("b"), SignalRecorder(name="c")
    p = track(ifrit.background(group([("a", a), ("b", b), ("c", c)])))
    a_signals = a.wait_for_call(DEADLINE)
    a.trigger_ready()
    b.wait_for_call(DEADLINE)
    boom = ConnectionError("b cannot connect")
    b.trigger_exit(boom)
    assert a_signals.get(timeout=DEADLINE) == INT  # the termination signal
    a.trigger_exit()
    err = p.wait(DEADLINE)
    assert isinstance(err, ErrorTrace)
    assert [(e.member.name, e.error) for e in err.trace] == [("b", boom), ("a", None)]
    assert c.received == [] and not p.wait_ready(0)
