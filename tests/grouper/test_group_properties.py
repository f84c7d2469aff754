"""Randomized (hypothesis) tests of the group contracts.

Each example builds a small group of scripted members (become ready or not,
exit on some signals, by themselves, cleanly or with an error), runs it,
replays a random script of group signals and member readiness/exits, then
lets every member exit and checks the invariants on what the members logged.

``GROUPER_EXAMPLES`` (default 1000) sets the number of examples of the static
group test (the dynamic one 30 % of it), e.g.
``GROUPER_EXAMPLES=5000 python -m pytest tests/grouper -k properties``.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ifrit
from ifrit import grouper
from ifrit.grouper import DuplicateNamesError, ErrorTrace, GroupClosedError, Member

from _gsupport import DEADLINE

# SIGUSR1 is only a value sent through mailboxes here; Windows has no such name.
INT, TERM, USR1 = signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGUSR1", 10)
EXAMPLES = int(os.environ.get("GROUPER_EXAMPLES", "1000"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


class Boom(Exception):
    pass


@dataclass(frozen=True)
class Spec:
    ready_at_once: bool
    exit_on: frozenset[int]
    error: str | None  # None, "exception" or "base" (a BaseException)


class Scripted:
    """A member driven by the test: ready/exit gates, signals per spec, logs
    ("start"|"ready"|"exit", i) and ("signal", i, sig) into a shared log."""

    def __init__(self, i: int, spec: Spec, log: list[tuple[Any, ...]], lock: threading.Lock) -> None:
        self.i = i
        self.spec = spec
        self.log = log
        self.lock = lock
        self.ready_gate = ifrit.Event()
        self.exit_gate = ifrit.Event()
        if spec.ready_at_once:
            self.ready_gate.set()

    def add(self, *item: Any) -> None:
        with self.lock:
            self.log.append(item)

    def run(self, signals: ifrit.Signals, ready: Any) -> None:
        self.add("start", self.i)
        waitables: list[Any] = [signals, self.exit_gate, self.ready_gate]
        while True:
            index, value = ifrit.select(*waitables, timeout=30)
            if index == 0:
                self.add("signal", self.i, value)
                if value in self.spec.exit_on:
                    break
            elif index == 1:
                break
            else:
                ready()
                self.add("ready", self.i)
                waitables.pop()
        self.add("exit", self.i)
        if self.spec.error == "exception":
            raise Boom(f"member {self.i}")
        if self.spec.error == "base":
            raise KeyboardInterrupt(f"member {self.i}")


specs = st.builds(
    Spec,
    ready_at_once=st.booleans(),
    exit_on=st.sampled_from([frozenset({INT, TERM, USR1}), frozenset({TERM}), frozenset()]),
    error=st.sampled_from([None, None, "exception", "base"]),
)


@st.composite
def scenarios(draw: Any) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(["Parallel", "Ordered", "QueueOrdered"]))
    members = draw(st.lists(specs, min_size=0, max_size=5))
    term = draw(st.sampled_from([INT, TERM, None]))
    n = len(members)
    actions = [st.tuples(st.just("signal"), st.sampled_from([INT, TERM, USR1]))]
    if n:
        actions += [
            st.tuples(st.just("ready"), st.integers(0, n - 1)),
            st.tuples(st.just("exit"), st.integers(0, n - 1)),
        ]
    script = draw(st.lists(st.one_of(actions), max_size=8))
    return kind, members, term, script


def index_of(log: list[tuple[Any, ...]], item: tuple[Any, ...]) -> int | None:
    try:
        return log.index(item)
    except ValueError:
        return None


@SETTINGS
@given(scenarios())
def test_static_group_invariants(scenario: tuple[Any, ...]) -> None:
    kind, member_specs, term, script = scenario
    log: list[tuple[Any, ...]] = []
    lock = threading.Lock()
    runners = [Scripted(i, s, log, lock) for i, s in enumerate(member_specs)]
    group = getattr(grouper, kind)([Member(f"m{i}", r) for i, r in enumerate(runners)], termination_signal=term)
    p = ifrit.background(group)
    for action, arg in script:
        if action == "signal":
            p.signal(arg)
        elif action == "ready":
            runners[arg].ready_gate.set()
        else:
            runners[arg].exit_gate.set()
    for r in runners:  # let everything end
        r.exit_gate.set()
    p.signal(TERM)  # an empty or all-ready group runs until signaled
    result = p.wait(DEADLINE)  # invariant: the group always exits
    was_ready = p.wait_ready(0)
    with lock:
        log = list(log)

    n = len(runners)
    started = [i for i in range(n) if ("start", i) in log]
    # every started member exited (once), before the group returned
    for i in started:
        assert log.count(("exit", i)) == 1
    assert all(log.count(("start", i)) <= 1 for i in range(n))

    # exit error: ErrorTrace iff a started member failed; every started member in it once
    failing = [i for i in started if member_specs[i].error is not None]
    if failing:
        assert isinstance(result, ErrorTrace), result
        names = [e.member.name for e in result.trace]
        assert sorted(names) == sorted(f"m{i}" for i in started)
        assert len(result.exceptions) == len(failing)
        for e in result.trace:
            i = int(e.member.name[1:])
            assert (e.error is None) == (member_specs[i].error is None)
        assert str(result).startswith("Exit trace for group:\n")
    else:
        assert result is None

    # ready only if every member was ready
    if was_ready:
        assert started == list(range(n))
        assert all(("ready", i) in log for i in range(n))

    # the group never sends the same signal twice in a row to a member
    for i in started:
        sigs = [item[2] for item in log if item[0] == "signal" and item[1] == i]
        assert all(a != b for a, b in zip(sigs, sigs[1:])), sigs

    if kind == "Parallel":
        return
    # ordered start: member i starts only once member i-1 is ready
    assert started == list(range(len(started)))
    for i in started[1:]:
        ready_prev = index_of(log, ("ready", i - 1))
        assert ready_prev is not None and ready_prev < log.index(("start", i))
    # ordered stop: a member is first signaled only after every started
    # member before it in stop order has exited
    order = started[::-1] if kind == "Ordered" else started
    for pos, j in enumerate(order):
        first_signal = next((k for k, it in enumerate(log) if it[0] == "signal" and it[1] == j), None)
        if first_signal is None:
            continue
        for k in order[:pos]:
            assert log.index(("exit", k)) < first_signal, (kind, order, log)


# ---------------------------------------------------------------- dynamic


@st.composite
def dynamic_scenarios(draw: Any) -> tuple[Any, ...]:
    capacity = draw(st.sampled_from([None, 1, 2, 3]))
    term = draw(st.sampled_from([None, INT]))
    buffer = draw(st.integers(0, 3))
    op = st.one_of(
        st.tuples(st.just("insert"), st.sampled_from("abcd"), specs),
        st.tuples(st.just("exit"), st.sampled_from("abcd"), st.none()),
        st.tuples(st.just("signal"), st.sampled_from([INT, TERM]), st.none()),
        st.tuples(st.just("close"), st.none(), st.none()),
    )
    script = draw(st.lists(op, max_size=10))
    return capacity, term, buffer, script


@settings(
    max_examples=max(1, EXAMPLES * 3 // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(dynamic_scenarios())
def test_dynamic_group_invariants(scenario: tuple[Any, ...]) -> None:
    capacity, term, buffer, script = scenario
    log: list[tuple[Any, ...]] = []
    lock = threading.Lock()
    group = grouper.DynamicGroup(termination_signal=term, max_capacity=capacity, event_buffer_size=buffer)
    client = group.client
    entrances, exits = client.entrance_listener(), client.exit_listener()
    p = ifrit.background(group)
    assert p.wait_ready(DEADLINE)
    runners: dict[str, Scripted] = {}
    inserted: list[tuple[str, Scripted]] = []
    closed_by = None
    for op, arg, spec in script:
        if op == "insert":
            r = Scripted(len(inserted), spec, log, lock)
            try:
                proc = client.insert((arg, r), timeout=0.2)
            except GroupClosedError:
                assert closed_by is not None or client.closed.is_set()
                continue
            except DuplicateNamesError:
                assert client.get(arg) is not None or arg in runners
                continue
            except TimeoutError:
                assert capacity is not None
                continue
            runners[arg] = r
            inserted.append((arg, r))
            assert client.get(arg) in (proc, None)  # None: it already exited
        elif op == "exit":
            if arg in runners:
                runners[arg].exit_gate.set()
        elif op == "signal":
            p.signal(arg)
            closed_by = closed_by or "signal"
        else:
            client.close()
            closed_by = closed_by or "close"
    client.close()
    for _, r in inserted:
        r.exit_gate.set()
    assert p.wait(DEADLINE) is None  # always exits, always cleanly
    assert client.closed.is_set()
    got_in = _drain(entrances)
    got_out = _drain(exits)
    # one entrance and one exit per inserted member, entrance first
    assert len(got_in) == len(got_out) == len(inserted)
    assert sorted(id(e.member.runner) for e in got_in) == sorted(id(e.member.runner) for e in got_out)
    assert sorted(id(e.member.runner) for e in got_in) == sorted(id(r) for _, r in inserted)
    with lock:
        log = list(log)
    for name, r in inserted:
        assert log.count(("exit", r.i)) == 1
    for e in got_out:
        runner = e.member.runner
        assert (e.error is None) == (runner.spec.error is None)
    # late listeners: the buffered events, closed
    assert len(_drain(client.exit_listener())) == min(buffer, len(inserted))
    assert client.get("a") is None


def _drain(mb: ifrit.Mailbox[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(mb.get(timeout=DEADLINE))
        except ifrit.Closed:
            return items
