"""SPEC §1: ifrit.Event and ifrit.Mailbox (with close, Closed, CLOSED)."""

from __future__ import annotations

import threading
import time
from collections import deque

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import ifrit
from _support import DEADLINE, outcome

# ------------------------------------------------------------------ Event


def test_event_set_is_set_wait():
    e = ifrit.Event()
    assert e.is_set() is False
    with pytest.raises(TimeoutError):
        e.wait(timeout=0.02)
    with pytest.raises(TimeoutError):
        e.wait(timeout=0)
    e.set()
    assert e.is_set() is True
    assert e.wait(timeout=DEADLINE) is None
    assert e.wait(timeout=0) is None
    assert e.wait() is None
    e.set()  # idempotent
    assert e.is_set() is True


def test_event_wait_timeout_duration():
    e = ifrit.Event()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        e.wait(timeout=0.1)
    elapsed = time.monotonic() - start
    assert 0.09 <= elapsed < 2.0


def test_event_wakes_all_waiters():
    e = ifrit.Event()
    results = []
    barrier = threading.Barrier(11, timeout=DEADLINE)

    def waiter():
        barrier.wait()
        results.append(outcome(e.wait, timeout=DEADLINE))

    threads = [threading.Thread(target=waiter) for _ in range(10)]
    for t in threads:
        t.start()
    barrier.wait()
    e.set()
    for t in threads:
        t.join(DEADLINE + 5)
    assert results == [("ok", None)] * 10


# ------------------------------------------------------------------ Mailbox


def test_mailbox_fifo_and_identity():
    mb = ifrit.Mailbox()
    items = [object() for _ in range(100)]
    for it in items:
        mb.put(it)
    assert len(mb) == 100
    out = [mb.get(timeout=DEADLINE) for _ in range(100)]
    assert all(a is b for a, b in zip(out, items))
    assert len(mb) == 0


def test_mailbox_accepts_any_object_including_none():
    mb = ifrit.Mailbox()
    for it in (None, 0, "", (), KeyboardInterrupt()):
        mb.put(it)
    assert mb.get(timeout=0) is None
    assert mb.get(timeout=0) == 0
    assert mb.get(timeout=0) == ""
    assert mb.get(timeout=0) == ()
    assert isinstance(mb.get(timeout=0), KeyboardInterrupt)


def test_put_never_blocks():
    mb = ifrit.Mailbox()
    start = time.monotonic()
    for i in range(200_000):
        mb.put(i)
    assert time.monotonic() - start < 10
    assert len(mb) == 200_000
    assert mb.get(timeout=0) == 0


def test_get_timeout_and_poll():
    mb = ifrit.Mailbox()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        mb.get(timeout=0.05)
    assert time.monotonic() - start >= 0.04
    with pytest.raises(TimeoutError):
        mb.get(timeout=0)
    assert mb.poll() is None
    mb.put("x")
    mb.put("y")
    assert mb.poll() == "x"
    assert len(mb) == 1
    assert mb.get(timeout=0) == "y"
    assert mb.poll() is None


def test_get_wakes_on_put_from_other_thread():
    mb = ifrit.Mailbox()
    t = threading.Timer(0.05, mb.put, ("late",))  # the timer only makes the producer slow
    t.start()
    try:
        assert mb.get(timeout=DEADLINE) == "late"
    finally:
        t.join(DEADLINE)


def test_iteration_yields_until_closed():
    mb = ifrit.Mailbox()
    for i in range(3):
        mb.put(i)
    it = iter(mb)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    mb.put(3)
    mb.put(4)
    mb.close()
    collected = []
    t = threading.Thread(target=lambda: collected.extend(mb_iter for mb_iter in it))
    t.start()
    t.join(DEADLINE)
    assert not t.is_alive(), "iteration over a closed, drained mailbox did not stop"
    assert collected == [3, 4]
    assert list(mb) == []


def test_iteration_blocks_then_stops_on_close():
    mb = ifrit.Mailbox()
    collected = []
    done = threading.Event()

    def consume():
        for item in mb:
            collected.append(item)
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    mb.put("a")
    mb.put("b")
    mb.close()
    t.join(DEADLINE)
    assert done.is_set()
    assert collected == ["a", "b"]


def test_close_semantics():
    mb = ifrit.Mailbox()
    assert mb.closed is False
    mb.put("a")
    mb.put("b")
    mb.put("c")
    mb.close()
    assert mb.closed is True
    assert len(mb) == 3
    assert mb.get(timeout=DEADLINE) == "a"
    assert mb.poll() == "b"
    assert ifrit.select(mb, timeout=DEADLINE) == (0, "c")
    assert mb.poll() is None
    start = time.monotonic()
    with pytest.raises(ifrit.Closed):
        mb.get(timeout=DEADLINE)
    with pytest.raises(ifrit.Closed):
        mb.get(timeout=0)
    assert time.monotonic() - start < 1.0, "get on a closed empty mailbox must not wait"
    with pytest.raises(ifrit.Closed):
        mb.put("d")
    assert len(mb) == 0
    assert list(mb) == []
    idx, value = ifrit.select(mb, timeout=DEADLINE)
    assert idx == 0 and value is ifrit.CLOSED
    mb.close()  # idempotent
    assert mb.closed is True


def test_closed_is_an_exception():
    assert issubclass(ifrit.Closed, Exception)
    assert repr(ifrit.CLOSED)


def test_close_wakes_blocked_getter():
    mb = ifrit.Mailbox()
    results = []
    started = threading.Event()

    def getter():
        started.set()
        t0 = time.monotonic()
        results.append((outcome(mb.get, timeout=DEADLINE), time.monotonic() - t0))

    t = threading.Thread(target=getter)
    t.start()
    assert started.wait(DEADLINE)
    mb.close()
    t.join(DEADLINE + 5)
    (kind, value), elapsed = results[0]
    assert kind == "raised" and isinstance(value, ifrit.Closed), value
    assert elapsed < DEADLINE - 1


def test_generic_alias():
    mb = ifrit.Mailbox[int]()
    mb.put(1)
    assert mb.get(timeout=0) == 1


def test_per_producer_fifo_with_concurrent_producers():
    mb = ifrit.Mailbox()
    producers, per = 6, 2000
    barrier = threading.Barrier(producers, timeout=DEADLINE)

    def produce(k):
        barrier.wait()
        for i in range(per):
            mb.put((k, i))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    got = [mb.get(timeout=0) for _ in range(producers * per)]
    assert len(mb) == 0
    for k in range(producers):
        assert [i for (kk, i) in got if kk == k] == list(range(per))


# ------------------------------------------------------------------ model-based


class MailboxMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.mb = ifrit.Mailbox()
        self.model = deque()
        self.closed = False

    @rule(item=st.integers() | st.text(max_size=3) | st.none())
    def put(self, item):
        kind, value = outcome(self.mb.put, item)
        if self.closed:
            assert kind == "raised" and isinstance(value, ifrit.Closed)
        else:
            assert kind == "ok", value
            self.model.append(item)

    @rule()
    def get(self):
        kind, value = outcome(self.mb.get, timeout=0)
        if self.model:
            assert (kind, value) == ("ok", self.model.popleft())
        elif self.closed:
            assert kind == "raised" and isinstance(value, ifrit.Closed), value
        else:
            assert kind == "raised" and isinstance(value, TimeoutError), value

    @rule()
    def poll(self):
        expected = self.model.popleft() if self.model else None
        assert self.mb.poll() == expected

    @rule()
    def select(self):
        kind, value = outcome(ifrit.select, self.mb, timeout=0)
        if self.model:
            assert (kind, value) == ("ok", (0, self.model.popleft()))
        elif self.closed:
            assert kind == "ok" and value[0] == 0 and value[1] is ifrit.CLOSED
        else:
            assert kind == "raised" and isinstance(value, TimeoutError), value

    @rule()
    def close(self):
        self.mb.close()
        self.closed = True

    @invariant()
    def consistent(self):
        assert len(self.mb) == len(self.model)
        assert self.mb.closed is self.closed


TestMailboxModel = MailboxMachine.TestCase
TestMailboxModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
