"""SPEC §1: ifrit.select over every waitable kind."""

from __future__ import annotations

import signal
import threading

import pytest

import ifrit
from _support import DEADLINE, until_signal, posix_signals


def test_select_event_value_none():
    e = ifrit.Event()
    e.set()
    assert ifrit.select(e, timeout=DEADLINE) == (0, None)
    # level-triggered: still set
    assert ifrit.select(e, timeout=0) == (0, None)


def test_select_mailbox_takes_item():
    mb = ifrit.Mailbox()
    item = object()
    mb.put(item)
    idx, value = ifrit.select(mb, timeout=DEADLINE)
    assert idx == 0 and value is item
    assert len(mb) == 0
    with pytest.raises(TimeoutError):
        ifrit.select(mb, timeout=0.02)


def test_select_process_events(track):
    go = threading.Event()
    error = ValueError("select-exit")

    def runner(signals, ready):
        ready()
        assert go.wait(DEADLINE)
        raise error

    p = track(ifrit.background(runner))
    assert ifrit.select(p.ready_event, timeout=DEADLINE) == (0, None)
    with pytest.raises(TimeoutError):
        ifrit.select(p.exit_event, timeout=0.02)
    go.set()
    idx, value = ifrit.select(p.exit_event, timeout=DEADLINE)
    assert idx == 0 and value is error
    # both fired: lowest index wins, nothing consumed
    assert ifrit.select(p.exit_event, p.ready_event, timeout=0)[0] == 0
    assert ifrit.select(p.ready_event, p.exit_event, timeout=0) == (0, None)
    idx, value = ifrit.select(p.exit_event, timeout=0)
    assert value is error


def test_select_exit_event_clean_exit(track):
    p = track(ifrit.background(lambda s, r: None))
    assert ifrit.select(ifrit.Event(), p.exit_event, timeout=DEADLINE) == (1, None)


@posix_signals
def test_select_runner_signals(track):
    got = {}

    def runner(signals, ready):
        other = ifrit.Event()
        ready()
        got["first"] = ifrit.select(other, signals, timeout=DEADLINE)
        got["len"] = len(signals)
        got["second"] = ifrit.select(signals, other, timeout=DEADLINE)

    p = track(ifrit.background(runner))
    p.signal(signal.SIGUSR1)
    p.signal(4242)
    assert p.wait(timeout=DEADLINE) is None
    assert got["first"] == (1, signal.SIGUSR1)
    assert type(got["first"][1]) is signal.Signals
    assert got["len"] == 1
    assert got["second"] == (0, 4242)
    assert type(got["second"][1]) is int


@posix_signals
def test_select_signals_view():
    mb = ifrit.Mailbox()
    mb.put(signal.SIGHUP)
    assert ifrit.select(ifrit.Event(), mb.signals(), timeout=DEADLINE) == (1, signal.SIGHUP)
    assert len(mb) == 0


def test_lowest_index_wins_and_loser_not_consumed():
    e1, e2 = ifrit.Event(), ifrit.Event()
    mb = ifrit.Mailbox()
    mb.put("kept")
    e1.set()
    e2.set()
    assert ifrit.select(e2, e1, timeout=DEADLINE) == (0, None)
    assert ifrit.select(e1, mb, timeout=DEADLINE) == (0, None)
    assert len(mb) == 1, "a mailbox that lost the select must keep its item"
    assert ifrit.select(mb, e1, timeout=DEADLINE) == (0, "kept")
    assert len(mb) == 0
    mb.put("a")
    mb2 = ifrit.Mailbox()
    mb2.put("b")
    assert ifrit.select(mb2, mb, timeout=0) == (0, "b")
    assert ifrit.select(mb2, mb, timeout=0) == (1, "a")


def test_select_timeout():
    with pytest.raises(TimeoutError):
        ifrit.select(ifrit.Event(), ifrit.Mailbox(), timeout=0.05)
    with pytest.raises(TimeoutError):
        ifrit.select(ifrit.Event(), timeout=0)


def test_select_without_waitables_is_value_error():
    with pytest.raises(ValueError):
        ifrit.select()
    with pytest.raises(ValueError):
        ifrit.select(timeout=1)


def test_select_rejects_non_waitable():
    with pytest.raises(TypeError):
        ifrit.select(42, timeout=0)
    with pytest.raises(TypeError):
        ifrit.select(ifrit.Event(), "nope", timeout=0)


def test_select_wakes_on_put_from_other_thread():
    mb = ifrit.Mailbox()
    t = threading.Timer(0.05, mb.put, ("late",))  # the timer only makes the producer slow
    t.start()
    try:
        assert ifrit.select(ifrit.Event(), mb, timeout=DEADLINE) == (1, "late")
    finally:
        t.join(DEADLINE)


def test_select_wakes_on_event_set_from_other_thread():
    e = ifrit.Event()
    t = threading.Timer(0.05, e.set)
    t.start()
    try:
        assert ifrit.select(ifrit.Mailbox(), e, timeout=DEADLINE) == (1, None)
    finally:
        t.join(DEADLINE)


def test_select_closed_mailbox_yields_closed():
    mb = ifrit.Mailbox()
    mb.put(1)
    mb.close()
    assert ifrit.select(mb, timeout=DEADLINE) == (0, 1)
    idx, value = ifrit.select(mb, timeout=DEADLINE)
    assert idx == 0 and value is ifrit.CLOSED
    idx, value = ifrit.select(ifrit.Event(), mb, timeout=DEADLINE)
    assert idx == 1 and value is ifrit.CLOSED


def test_select_wakes_on_close():
    mb = ifrit.Mailbox()
    t = threading.Timer(0.05, mb.close)
    t.start()
    try:
        idx, value = ifrit.select(mb, timeout=DEADLINE)
    finally:
        t.join(DEADLINE)
    assert idx == 0 and value is ifrit.CLOSED


def test_mailbox_items_taken_exactly_once_by_concurrent_selects():
    mb = ifrit.Mailbox()
    n_items, n_consumers = 5000, 6
    results: list[list[object]] = [[] for _ in range(n_consumers)]
    decoy = ifrit.Event()

    def consume(k):
        while True:
            if k % 2:
                idx, value = ifrit.select(decoy, mb, timeout=DEADLINE)
                assert idx == 1
            else:
                try:
                    value = mb.get(timeout=DEADLINE)
                except ifrit.Closed:
                    return
            if value is ifrit.CLOSED:
                return
            results[k].append(value)

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(n_consumers)]
    for t in threads:
        t.start()
    for i in range(n_items):
        mb.put(i)
    mb.close()
    for t in threads:
        t.join(DEADLINE + 5)
    assert not any(t.is_alive() for t in threads)
    everything = sorted(v for r in results for v in r)
    assert everything == list(range(n_items))
    for r in results:
        assert r == sorted(r)  # each consumer sees items in FIFO order


def test_select_mixed_kinds(track):
    p = track(ifrit.background(until_signal))
    assert ifrit.select(ifrit.Event(), p.exit_event, p.ready_event, timeout=DEADLINE) == (2, None)
    p.signal()
    assert ifrit.select(ifrit.Mailbox(), p.exit_event, timeout=DEADLINE) == (1, None)
    # both events have fired now: the lower index wins
    assert ifrit.select(ifrit.Mailbox(), p.exit_event, p.ready_event, timeout=0) == (1, None)
