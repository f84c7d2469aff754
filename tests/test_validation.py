"""SPEC §1: bad input raises at the call, with a message that says what was wrong."""

from __future__ import annotations

import re
import threading

import pytest

import ifrit
from _support import DEADLINE, never_ready, until_signal


def _says_timeout(exc: BaseException) -> bool:
    return bool(re.search(r"timeout|negative", str(exc), re.IGNORECASE))


@pytest.mark.parametrize("bad", [42, None, "run", object()], ids=["int", "None", "str", "object"])
@pytest.mark.parametrize("start", ["background", "invoke"])
def test_non_runner_is_type_error(bad, start):
    fn = getattr(ifrit, start)
    with pytest.raises(TypeError) as info:
        fn(bad)
    assert re.search(r"runner|callable|run\b", str(info.value), re.IGNORECASE), str(info.value)


@pytest.mark.parametrize("bad", ["TERM", 1.5, 15.0, None, b"15"], ids=["str", "float", "float-int", "None", "bytes"])
def test_signal_must_be_int(track, bad):
    p = track(ifrit.background(until_signal))
    with pytest.raises(TypeError) as info:
        p.signal(bad)
    assert re.search(r"signal|int", str(info.value), re.IGNORECASE), str(info.value)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    with pytest.raises(TypeError):
        p.signal(bad)  # still validated after exit


def test_negative_timeouts_process(track):
    p = track(ifrit.background(until_signal))
    for call in (lambda: p.wait(timeout=-1), lambda: p.wait_ready(timeout=-0.5)):
        with pytest.raises(ValueError) as info:
            call()
        assert _says_timeout(info.value), str(info.value)
    assert p.wait_ready(timeout=DEADLINE)
    with pytest.raises(ValueError):
        p.wait_ready(timeout=-1)  # even when the answer is already known
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    with pytest.raises(ValueError):
        p.wait(timeout=-1)


def test_negative_timeout_invoke_does_not_start():
    started = threading.Event()

    def runner(signals, ready):
        started.set()
        ready()

    with pytest.raises(ValueError) as info:
        ifrit.invoke(runner, timeout=-1)
    assert _says_timeout(info.value), str(info.value)
    assert not started.wait(0.1), "invoke started the runner despite a bad timeout"


def test_negative_timeout_select():
    e = ifrit.Event()
    with pytest.raises(ValueError) as info:
        ifrit.select(e, timeout=-1)
    assert _says_timeout(info.value)
    e.set()
    with pytest.raises(ValueError):
        ifrit.select(e, timeout=-1)


def test_negative_timeout_mailbox_event_signals():
    mb = ifrit.Mailbox()
    with pytest.raises(ValueError) as info:
        mb.get(timeout=-1)
    assert _says_timeout(info.value)
    mb.put(1)
    with pytest.raises(ValueError):
        mb.get(timeout=-1)
    assert len(mb) == 1

    e = ifrit.Event()
    with pytest.raises(ValueError) as info:
        e.wait(timeout=-1)
    assert _says_timeout(info.value)
    e.set()
    with pytest.raises(ValueError):
        e.wait(timeout=-1)

    view = ifrit.Mailbox().signals()
    with pytest.raises(ValueError) as info:
        view.get(timeout=-1)
    assert _says_timeout(info.value)


def test_negative_timeout_runner_signals_get(track):
    caught = []

    def runner(signals, ready):
        try:
            signals.get(timeout=-2)
        except ValueError as e:
            caught.append(e)

    p = track(ifrit.background(runner))
    assert p.wait(timeout=DEADLINE) is None
    assert len(caught) == 1 and _says_timeout(caught[0])


def test_never_ready_helper_terminates(track):
    # sanity check of the helper runners used across the suite
    p = track(ifrit.background(never_ready))
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
