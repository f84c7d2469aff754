"""SPEC §1: the runner's ``signals`` (ifrit.Signals) and Process.signal()."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ifrit
from _support import DEADLINE, outcome, posix_signals

VALID_SIGNALS = set(signal.Signals._value2member_map_)


def gated(go, body):
    """A runner that is ready at once, waits for ``go``, then runs ``body(signals)``."""

    def runner(signals, ready):
        ready()
        assert go.wait(DEADLINE), "test never released the runner"
        body(signals)

    return runner


@posix_signals
def test_signals_are_fifo_and_kept_until_read(track):
    go = threading.Event()
    got = {}

    def body(signals):
        got["len"] = len(signals)
        got["items"] = [signals.get(timeout=DEADLINE) for _ in range(got["len"])]
        got["after"] = (len(signals), signals.poll())

    p = track(ifrit.background(gated(go, body)))
    sent = [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, 1000, signal.SIGHUP, signal.SIGTERM]
    for s in sent:
        p.signal(s)  # possibly before the runner even started: must be pending anyway
    go.set()
    assert p.wait(timeout=DEADLINE) is None
    assert got["len"] == len(sent)
    assert got["items"] == sent
    assert got["after"] == (0, None)


def test_default_signal_is_sigterm(track):
    got = []
    p = track(ifrit.background(lambda signals, ready: (ready(), got.append(signals.get(timeout=DEADLINE)))))
    p.wait_ready(timeout=DEADLINE)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    assert got == [signal.SIGTERM]
    assert type(got[0]) is signal.Signals


@posix_signals
def test_int_signals_come_back_as_enum_others_as_int(track):
    go = threading.Event()
    got = []

    def body(signals):
        while (s := signals.poll()) is not None:
            got.append(s)

    p = track(ifrit.background(gated(go, body)))
    sent = [15, int(signal.SIGUSR2), signal.SIGHUP, 35, 1000, 2**20]
    for s in sent:
        p.signal(s)
    go.set()
    assert p.wait(timeout=DEADLINE) is None
    assert got == sent
    assert got[0] is signal.SIGTERM
    assert got[1] is signal.SIGUSR2
    assert got[2] is signal.SIGHUP
    for value in got[3:]:
        assert type(value) is int, (value, type(value))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2**31 - 1) | st.sampled_from(sorted(VALID_SIGNALS)), max_size=30))
def test_property_signals_roundtrip(sent):
    go = threading.Event()
    got = []

    def body(signals):
        while (s := signals.poll()) is not None:
            got.append(s)

    p = ifrit.background(gated(go, body))
    try:
        for s in sent:
            p.signal(s)
    finally:
        go.set()
    assert p.wait(timeout=DEADLINE) is None
    assert got == sent
    for value in got:
        expected_type = signal.Signals if value in VALID_SIGNALS else int
        assert type(value) is expected_type


@posix_signals
def test_signals_after_exit_are_dropped(track):
    p = track(ifrit.background(lambda s, r: None))
    assert p.wait(timeout=DEADLINE) is None
    for s in (signal.SIGTERM, signal.SIGKILL, 12345, 2):
        assert p.signal(s) is None
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_signal_never_blocks_and_queue_is_unbounded(track):
    go = threading.Event()
    got = []

    def body(signals):
        while (s := signals.poll()) is not None:
            got.append(s)

    n = 100_000
    p = track(ifrit.background(gated(go, body)))
    start = time.monotonic()
    for i in range(n):
        p.signal(100 + i)
    elapsed = time.monotonic() - start
    go.set()
    assert p.wait(timeout=30) is None
    assert got == list(range(100, 100 + n))
    assert elapsed < 10, f"sending {n} signals took {elapsed:.1f}s"


@posix_signals
def test_poll_and_len(track):
    go = threading.Event()
    got = {}

    def runner(signals, ready):
        got["empty_poll"] = signals.poll()
        got["empty_len"] = len(signals)
        ready()
        assert go.wait(DEADLINE)
        got["len2"] = len(signals)
        got["poll1"] = signals.poll()
        got["len1"] = len(signals)
        got["poll2"] = signals.poll()
        got["poll3"] = signals.poll()

    p = ifrit.background(runner)
    assert p.wait_ready(timeout=DEADLINE)
    p.signal(signal.SIGUSR1)
    p.signal(signal.SIGUSR2)
    go.set()
    assert p.wait(timeout=DEADLINE) is None
    assert got == {
        "empty_poll": None,
        "empty_len": 0,
        "len2": 2,
        "poll1": signal.SIGUSR1,
        "len1": 1,
        "poll2": signal.SIGUSR2,
        "poll3": None,
    }


@posix_signals
def test_iter_yields_signals_blocking(track):
    got = []
    first = threading.Event()

    def runner(signals, ready):
        ready()
        for s in signals:
            got.append(s)
            first.set()
            if len(got) == 3:
                return

    p = track(ifrit.background(runner))
    p.wait_ready(timeout=DEADLINE)
    p.signal(signal.SIGHUP)
    assert first.wait(DEADLINE)
    p.signal(signal.SIGUSR1)
    p.signal(7777)
    assert p.wait(timeout=DEADLINE) is None
    assert got == [signal.SIGHUP, signal.SIGUSR1, 7777]


def test_signals_get_timeout(track):
    got = {}

    def runner(signals, ready):
        ready()
        start = time.monotonic()
        got["outcome"] = outcome(signals.get, timeout=0.05)
        got["elapsed"] = time.monotonic() - start
        got["zero"] = outcome(signals.get, timeout=0)

    p = track(ifrit.background(runner))
    assert p.wait(timeout=DEADLINE) is None
    kind, err = got["outcome"]
    assert kind == "raised" and isinstance(err, TimeoutError), err
    assert got["elapsed"] >= 0.04
    kind, err = got["zero"]
    assert kind == "raised" and isinstance(err, TimeoutError), err


@posix_signals
def test_signals_get_wakes_on_signal_from_other_thread(track):
    got = []

    def runner(signals, ready):
        ready()
        got.append(signals.get(timeout=DEADLINE))

    p = track(ifrit.background(runner))
    p.wait_ready(timeout=DEADLINE)
    t = threading.Thread(target=p.signal, args=(signal.SIGUSR2,))
    t.start()
    t.join(DEADLINE)
    assert p.wait(timeout=DEADLINE) is None
    assert got == [signal.SIGUSR2]


def test_concurrent_senders_lose_nothing_and_keep_per_sender_order(track):
    senders, per_sender = 8, 500
    total = senders * per_sender
    got = []

    def runner(signals, ready):
        ready()
        while len(got) < total:
            got.append(signals.get(timeout=DEADLINE))

    p = track(ifrit.background(runner))
    p.wait_ready(timeout=DEADLINE)
    barrier = threading.Barrier(senders, timeout=DEADLINE)

    def send(k):
        barrier.wait()
        for i in range(per_sender):
            p.signal(100_000 + k * 1000 + i)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    assert p.wait(timeout=30) is None
    assert sorted(got) == sorted(100_000 + k * 1000 + i for k in range(senders) for i in range(per_sender))
    for k in range(senders):
        mine = [v for v in got if (v - 100_000) // 1000 == k]
        assert mine == [100_000 + k * 1000 + i for i in range(per_sender)]


def test_signal_racing_with_exit_never_errors(track):
    for _ in range(50):
        p = track(ifrit.background(lambda signals, ready: signals.poll()))
        for _ in range(20):
            assert p.signal() is None
        assert p.wait(timeout=DEADLINE) is None


@posix_signals
def test_mailbox_signals_view(track):
    mb = ifrit.Mailbox()
    view = mb.signals()
    assert isinstance(view, ifrit.Signals)
    assert not hasattr(view, "put")
    assert view.poll() is None and len(view) == 0
    mb.put(signal.SIGTERM)
    mb.put(signal.SIGUSR1)
    mb.put(signal.SIGHUP)
    assert len(view) == 3 and len(mb) == 3
    assert view.get(timeout=DEADLINE) == signal.SIGTERM
    assert view.poll() == signal.SIGUSR1
    assert len(mb) == 1
    assert next(iter(view)) == signal.SIGHUP
    with pytest.raises(TimeoutError):
        view.get(timeout=0.01)
    mb.close()
    with pytest.raises(ifrit.Closed):
        view.get(timeout=DEADLINE)
    assert view.poll() is None
