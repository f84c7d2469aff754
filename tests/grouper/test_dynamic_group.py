"""SPEC §2: DynamicGroup and DynamicClient."""

from __future__ import annotations

import signal
import threading

import pytest

import ifrit
from ifrit import grouper
from ifrit.grouper import (
    DuplicateNamesError,
    DynamicGroup,
    EntranceEvent,
    ExitEvent,
    GroupClosedError,
    Member,
)

from _gsupport import DEADLINE, Log, Worker, stop, until_signal

# SIGUSR1 is only a value sent through mailboxes here; Windows has no such name.
INT, TERM, USR1 = signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGUSR1", 10)


def drain(mailbox, timeout=DEADLINE):
    """Every item of a mailbox until it is closed (fails if it is not closed in time)."""
    items = []
    while True:
        try:
            items.append(mailbox.get(timeout=timeout))
        except ifrit.Closed:
            return items


def quick(signals, ready):
    ready()


def run_in_thread(fn, *args, **kwargs):
    """Run fn in a thread; returns (thread, result-mailbox of ("ok", v) / ("raised", e))."""
    out = ifrit.Mailbox()

    def body():
        try:
            out.put(("ok", fn(*args, **kwargs)))
        except BaseException as e:  # noqa: BLE001
            out.put(("raised", e))

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, out


# ------------------------------------------------------------ construction


def test_constructor_validation():
    with pytest.raises(ValueError):
        DynamicGroup(max_capacity=0)
    with pytest.raises(ValueError):
        DynamicGroup(max_capacity=-3)
    with pytest.raises(ValueError):
        DynamicGroup(event_buffer_size=-1)
    with pytest.raises(TypeError):
        DynamicGroup(max_capacity=1.5)
    with pytest.raises(TypeError):
        DynamicGroup(event_buffer_size="3")
    with pytest.raises(TypeError):
        DynamicGroup(termination_signal="INT")
    g = DynamicGroup()
    assert g.termination_signal == INT and g.max_capacity is None and g.event_buffer_size == 0
    assert isinstance(g.client, grouper.DynamicClient)
    assert g.client is g.client


def test_insert_rejects_bad_members():
    client = DynamicGroup().client
    with pytest.raises(TypeError, match="member"):
        client.insert(42, timeout=0)
    with pytest.raises(TypeError, match="runner"):
        client.insert(("x", None), timeout=0)
    with pytest.raises(ValueError):
        client.insert(Member("x", until_signal), timeout=-1)
    with pytest.raises(TypeError):
        client.insert(Member("x", until_signal), timeout="soon")


# ------------------------------------------------------------ basics


def test_empty_ready_at_once_runs_until_signaled(track):
    g = DynamicGroup()
    p = track(ifrit.background(g))
    assert p.wait_ready(DEADLINE)
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    assert stop(p, TERM) is None
    assert g.client.closed.is_set()


def test_empty_closed_group_exits(track):
    g = DynamicGroup()
    p = track(ifrit.background(g))
    assert p.wait_ready(DEADLINE)
    g.client.close()
    assert p.wait(DEADLINE) is None


def test_insert_runs_member_get_and_entrance_process(track):
    g = DynamicGroup(event_buffer_size=10)
    client = g.client
    p = track(ifrit.background(g))
    entrances = client.entrance_listener()
    member_p = client.insert(Member("a", until_signal), timeout=DEADLINE)
    assert isinstance(member_p, ifrit.Process)
    assert client.get("a") is member_p
    assert client.get("nobody") is None
    event = entrances.get(timeout=DEADLINE)
    assert isinstance(event, EntranceEvent)
    assert event.member.name == "a" and event.process is member_p
    assert member_p.is_ready
    client.insert(("b", until_signal), timeout=DEADLINE)  # a (name, runner) pair
    assert entrances.get(timeout=DEADLINE).member.name == "b"
    assert stop(p) is None


def test_group_never_exits_just_because_it_became_empty(track):
    """Go's group exited when a full pool (capacity 1) emptied; this one stays."""
    g = DynamicGroup(termination_signal=None, max_capacity=1)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()
    for i in range(3):
        client.insert(("a", quick), timeout=DEADLINE)
        assert exits.get(timeout=DEADLINE).member.name == "a"
        assert not p.is_exited
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    client.insert(("b", until_signal), timeout=DEADLINE)
    client.close()
    with pytest.raises(TimeoutError):
        p.wait(0.05)  # closed but not empty
    client.get("b").signal(INT)
    assert p.wait(DEADLINE) is None


# ------------------------------------------------------------ capacity


@pytest.mark.parametrize("capacity", [1, 2])
def test_insert_blocks_while_full(capacity, track):
    g = DynamicGroup(termination_signal=None, max_capacity=capacity)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()
    procs = [client.insert((f"m{i}", until_signal), timeout=DEADLINE) for i in range(capacity)]
    with pytest.raises(TimeoutError):
        client.insert(("late", until_signal), timeout=0.05)
    assert client.get("late") is None
    t, out = run_in_thread(client.insert, ("late", until_signal), timeout=DEADLINE)
    with pytest.raises(TimeoutError):
        out.get(timeout=0.05)  # still blocked
    procs[0].signal(INT)
    kind, late = out.get(timeout=DEADLINE)
    assert kind == "ok" and client.get("late") is late
    assert exits.get(timeout=DEADLINE).member.name == "m0"
    assert stop(p) is None


def test_waiting_inserters_get_group_closed_error(track):
    g = DynamicGroup(max_capacity=1)
    client = g.client
    p = track(ifrit.background(g))
    client.insert(("a", until_signal), timeout=DEADLINE)
    waiters = [run_in_thread(client.insert, (f"w{i}", until_signal), timeout=DEADLINE) for i in range(3)]
    client.close()
    for _, out in waiters:
        kind, err = out.get(timeout=DEADLINE)
        assert kind == "raised" and isinstance(err, GroupClosedError)
    assert stop(p) is None


def test_capacity_is_never_exceeded_under_concurrent_inserts(track):
    capacity = 3
    lock = threading.Lock()
    now = [0, 0]  # running, max seen

    def counted(signals, ready):
        with lock:
            now[0] += 1
            now[1] = max(now[1], now[0])
        ready()
        with lock:
            now[0] -= 1

    g = DynamicGroup(termination_signal=None, max_capacity=capacity)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()

    def inserter(k):
        for i in range(25):
            client.insert((f"t{k}-{i}", counted), timeout=DEADLINE)

    threads = [threading.Thread(target=inserter, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
        assert not t.is_alive()
    client.close()
    assert p.wait(DEADLINE) is None
    assert len(drain(exits)) == 100
    assert now[1] <= capacity


# ------------------------------------------------------------ names


def test_duplicate_insert_and_name_free_after_exit_event(track):
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()
    first = client.insert(("a", until_signal), timeout=DEADLINE)
    with pytest.raises(DuplicateNamesError) as info:
        client.insert(("a", until_signal), timeout=DEADLINE)
    assert info.value.names == ["a"] and isinstance(info.value, ValueError)
    first.signal(INT)
    event = exits.get(timeout=DEADLINE)
    assert event.member.name == "a"
    assert client.get("a") is None  # once the exit event can be read
    second = client.insert(("a", until_signal), timeout=DEADLINE)
    assert second is not first and client.get("a") is second
    assert stop(p) is None


# ------------------------------------------------------------ close and signals


def test_close_idempotent_no_signals_and_closed_waitable(track):
    log = Log()
    g = DynamicGroup()
    client = g.client
    p = track(ifrit.background(g))
    gate = ifrit.Event()
    client.insert(("a", Worker("a", log, exit_gate=gate)), timeout=DEADLINE)
    assert not client.closed.is_set()
    t, out = run_in_thread(ifrit.select, client.closed, timeout=DEADLINE)
    client.close()
    client.close()
    assert out.get(timeout=DEADLINE) == ("ok", (0, None))
    assert client.closed.is_set()
    with pytest.raises(GroupClosedError):
        client.insert(("b", until_signal), timeout=DEADLINE)
    with pytest.raises(TimeoutError):
        p.wait(0.05)
    gate.set()
    assert p.wait(DEADLINE) is None
    assert log.of("signal") == []  # closing signals nobody
    client.close()


def test_signal_closes_and_is_forwarded_to_every_member(track):
    log = Log()
    g = DynamicGroup()
    client = g.client
    p = track(ifrit.background(g))
    for n in "abc":
        client.insert((n, Worker(n, log, exit_on={TERM})), timeout=DEADLINE)
    p.signal(USR1)
    for n in "abc":
        log.wait_for("signal", n, USR1)
    assert client.closed.is_set()
    with pytest.raises(GroupClosedError):
        client.insert(("d", until_signal), timeout=0)
    p.signal(TERM)  # every signal is forwarded
    assert p.wait(DEADLINE) is None
    assert sorted(log.of("signal")) == sorted([(n, s) for n in "abc" for s in (USR1, TERM)])


def test_member_exit_sends_termination_signal_and_closes(track):
    log = Log()
    g = DynamicGroup(termination_signal=USR1)
    client = g.client
    p = track(ifrit.background(g))
    gate = ifrit.Event()
    client.insert(("a", Worker("a", log, exit_gate=gate, error=ValueError("a failed"))), timeout=DEADLINE)
    for n in "bc":
        client.insert((n, Worker(n, log, exit_on={USR1})), timeout=DEADLINE)
    exits = client.exit_listener()
    gate.set()
    assert p.wait(DEADLINE) is None  # the dynamic group always exits cleanly
    assert sorted(log.of("signal")) == [("b", USR1), ("c", USR1)]
    events = drain(exits)
    assert events[0].member.name == "a" and isinstance(events[0].error, ValueError)
    assert sorted(e.member.name for e in events[1:]) == ["b", "c"]
    assert client.closed.is_set()


def test_none_termination_signal_member_exit_affects_no_one(track):
    log = Log()
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()
    gate = ifrit.Event()
    client.insert(("a", Worker("a", log, exit_gate=gate, error=ValueError())), timeout=DEADLINE)
    client.insert(("b", Worker("b", log)), timeout=DEADLINE)
    gate.set()
    assert exits.get(timeout=DEADLINE).member.name == "a"
    assert not client.closed.is_set()
    client.insert(("c", Worker("c", log)), timeout=DEADLINE)  # still open
    assert log.of("signal") == []
    assert stop(p, TERM) is None
    assert sorted(log.of("signal")) == [("b", TERM), ("c", TERM)]


def test_member_exit_after_group_signal_does_not_send_termination_signal(track):
    log = Log()
    g = DynamicGroup(termination_signal=USR1)
    client = g.client
    p = track(ifrit.background(g))
    client.insert(("a", Worker("a", log, exit_on={INT})), timeout=DEADLINE)
    client.insert(("b", Worker("b", log, exit_on={TERM})), timeout=DEADLINE)
    p.signal(INT)
    log.wait_for("exit", "a")
    p.signal(TERM)
    assert p.wait(DEADLINE) is None
    assert all(s != USR1 for (_, s) in log.of("signal"))


# ------------------------------------------------------------ before and after the run


def test_insert_before_run_waits_for_the_run(track):
    g = DynamicGroup()
    client = g.client
    assert client.get("a") is None
    with pytest.raises(TimeoutError):
        client.insert(("a", until_signal), timeout=0.05)
    t, out = run_in_thread(client.insert, ("a", until_signal), timeout=DEADLINE)
    with pytest.raises(TimeoutError):
        out.get(timeout=0.05)
    p = track(ifrit.background(g))
    kind, member_p = out.get(timeout=DEADLINE)
    assert kind == "ok" and client.get("a") is member_p
    assert stop(p) is None
    assert member_p.is_exited
    assert client.get("a") is None  # not running any more: None at once
    with pytest.raises(GroupClosedError):
        client.insert(("b", until_signal), timeout=0)


def test_close_before_run(track):
    g = DynamicGroup()
    g.client.close()
    p = track(ifrit.background(g))
    assert p.wait(DEADLINE) is None


def test_run_again_starts_open(track):
    g = DynamicGroup(event_buffer_size=5)
    p = track(ifrit.background(g))
    g.client.insert(("a", quick), timeout=DEADLINE)
    assert stop(p) is None
    assert [e.member.name for e in drain(g.client.exit_listener())] == ["a"]
    p2 = track(ifrit.background(g))
    assert p2.wait_ready(DEADLINE)
    g.client.insert(("b", until_signal), timeout=DEADLINE)
    assert g.client.get("b") is not None
    assert stop(p2) is None


# ------------------------------------------------------------ events and listeners


def test_entrance_before_exit_including_exit_without_ready(track):
    g = DynamicGroup(termination_signal=None, event_buffer_size=100)
    client = g.client
    p = track(ifrit.background(g))
    both = ifrit.Mailbox()
    entrances, exits = client.entrance_listener(), client.exit_listener()
    boom = OSError("no start")

    def fails_before_ready(signals, ready):
        raise boom

    def clean_before_ready(signals, ready):
        return None

    client.insert(("fails", fails_before_ready), timeout=DEADLINE)
    client.insert(("clean", clean_before_ready), timeout=DEADLINE)
    client.insert(("normal", quick), timeout=DEADLINE)
    client.close()
    assert p.wait(DEADLINE) is None
    ins = drain(entrances)
    outs = drain(exits)
    assert sorted(e.member.name for e in ins) == ["clean", "fails", "normal"]
    assert sorted(e.member.name for e in outs) == ["clean", "fails", "normal"]
    by_name = {e.member.name: e for e in outs}
    assert by_name["fails"].error is boom and by_name["clean"].error is None
    for e in ins:
        assert e.process.is_exited or e.process.is_ready
    # a late listener: the buffered events, then closed
    late = drain(client.entrance_listener())
    assert late == ins
    assert drain(client.exit_listener()) == outs
    both.close()


def test_entrance_precedes_exit_per_member(track):
    """When a member's exit event can be read, its entrance event already can."""
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p = track(ifrit.background(g))
    entrances, exits = client.entrance_listener(), client.exit_listener()
    boom = ValueError("early")

    def early_error(signals, ready):
        raise boom

    for i in range(60):
        client.insert((f"m{i}", early_error if i % 3 == 0 else quick), timeout=DEADLINE)
    client.close()
    entered = set()
    for _ in range(60):
        event = exits.get(timeout=DEADLINE)
        while (e := entrances.poll()) is not None:
            entered.add(e.member.name)
        assert event.member.name in entered
        assert (event.error is boom) == (int(event.member.name[1:]) % 3 == 0)
    assert p.wait(DEADLINE) is None
    assert drain(exits) == []


def test_event_buffer_keeps_most_recent(track):
    g = DynamicGroup(termination_signal=None, max_capacity=1, event_buffer_size=3)
    client = g.client
    p = track(ifrit.background(g))
    exits = client.exit_listener()
    for i in range(6):
        client.insert((f"m{i}", quick), timeout=DEADLINE)
        exits.get(timeout=DEADLINE)
    late_exits = client.exit_listener()
    late_entrances = client.entrance_listener()
    assert [late_exits.get(timeout=DEADLINE).member.name for _ in range(3)] == ["m3", "m4", "m5"]
    assert [late_entrances.get(timeout=DEADLINE).member.name for _ in range(3)] == ["m3", "m4", "m5"]
    assert late_exits.poll() is None
    client.insert(("m6", quick), timeout=DEADLINE)
    assert late_exits.get(timeout=DEADLINE).member.name == "m6"
    client.close()
    assert p.wait(DEADLINE) is None
    assert drain(late_exits) == []


def test_no_buffer_means_no_past_events(track):
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p = track(ifrit.background(g))
    first = client.exit_listener()
    client.insert(("a", quick), timeout=DEADLINE)
    first.get(timeout=DEADLINE)
    second = client.exit_listener()
    assert second.poll() is None
    client.close()
    assert p.wait(DEADLINE) is None
    assert drain(second) == []


def test_entrance_listener_closes_once_closed_and_all_entered(track):
    g = DynamicGroup()
    client = g.client
    p = track(ifrit.background(g))
    gate = ifrit.Event()
    log = Log()
    entrances = client.entrance_listener()
    client.insert(("slow", Worker("slow", log, ready_gate=gate)), timeout=DEADLINE)
    client.insert(("up", until_signal), timeout=DEADLINE)
    assert entrances.get(timeout=DEADLINE).member.name == "up"
    client.close()
    with pytest.raises(TimeoutError):
        entrances.get(timeout=0.05)  # "slow" may still enter
    gate.set()
    assert entrances.get(timeout=DEADLINE).member.name == "slow"
    with pytest.raises(ifrit.Closed):
        entrances.get(timeout=DEADLINE)  # closed: no more can come
    assert not p.is_exited
    exits = client.exit_listener()
    assert stop(p) is None
    assert len(drain(exits)) == 2


def test_listener_closed_by_reader_is_dropped(track):
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p = track(ifrit.background(g))
    gone = client.exit_listener()
    gone.close()
    kept = client.exit_listener()
    client.insert(("a", quick), timeout=DEADLINE)
    assert kept.get(timeout=DEADLINE).member.name == "a"
    client.close()
    assert p.wait(DEADLINE) is None


@pytest.mark.slow
def test_unread_listeners_never_block_10000_members(track):
    g = DynamicGroup(termination_signal=None, max_capacity=64, event_buffer_size=4)
    client = g.client
    p = track(ifrit.background(g))
    unread = [client.entrance_listener(), client.exit_listener()]
    n = 10_000
    for i in range(n):
        client.insert((f"m{i}", quick), timeout=DEADLINE)
    client.close()
    assert p.wait(60) is None
    assert [len(mb) for mb in unread] == [n, n]
    exits = drain(unread[1])
    assert len({e.member.name for e in exits}) == n
    assert all(isinstance(e, ExitEvent) and e.error is None for e in exits)


def test_get_when_not_running_is_none_at_once():
    g = DynamicGroup()
    assert g.client.get("x") is None
    assert repr(g.client).startswith("<grouper.DynamicClient")


def test_same_dynamic_group_runs_twice_concurrently(track):
    """Each run has its own members and state; the client addresses the latest run."""
    g = DynamicGroup(termination_signal=None)
    client = g.client
    p1 = track(ifrit.background(g))
    assert p1.wait_ready(DEADLINE)
    first = client.insert(("a", until_signal), timeout=DEADLINE)
    p2 = track(ifrit.background(g))
    assert p2.wait_ready(DEADLINE)
    assert client.get("a") is None  # the latest run has no "a"
    second = client.insert(("a", until_signal), timeout=DEADLINE)  # no clash with run 1
    assert client.get("a") is second
    assert stop(p1) is None  # run 1 stops its own member only
    assert first.is_exited and not second.is_exited
    assert not client.closed.is_set()
    assert stop(p2) is None
    assert second.is_exited
