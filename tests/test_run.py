"""ifrit.run (SPEC section 1): the main-program entry."""

from __future__ import annotations

import logging
import os
import signal
import threading

import pytest

import ifrit
from ifrit import _core

T = 10.0


def test_exported():
    assert "run" in ifrit.__all__ and callable(ifrit.run)


def test_clean_exit_is_0(caplog):
    def app(signals, ready):
        ready()

    with caplog.at_level(logging.ERROR, logger="ifrit"):
        assert ifrit.run(app) == 0
    assert not caplog.records


def test_error_exit_is_1_and_logged_with_traceback(caplog):
    def app(signals, ready):
        raise ValueError("it broke")

    with caplog.at_level(logging.ERROR, logger="ifrit"):
        assert ifrit.run(app, name="myapp") == 1
    (rec,) = [r for r in caplog.records if r.name == "ifrit"]
    assert rec.levelno == logging.ERROR
    assert "myapp" in rec.getMessage() and "it broke" in rec.getMessage()
    assert rec.exc_info is not None and isinstance(rec.exc_info[1], ValueError)
    assert "ValueError: it broke" in caplog.text


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_os_signal_stops_runner():
    got = []

    def app(signals, ready):
        ready()
        os.kill(os.getpid(), signal.SIGTERM)
        got.append(signals.get(timeout=T))

    assert ifrit.run(app) == 0
    assert got == [signal.SIGTERM]
    assert _core._sigbridge_subscribers(signal.SIGTERM) == 0


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_exactly_the_given_signals_from_a_thread():
    got = []
    seen = []

    def app(signals, ready):
        seen.append([_core._sigbridge_subscribers(s) for s in (signal.SIGUSR1, signal.SIGINT)])
        ready()
        os.kill(os.getpid(), signal.SIGUSR1)
        got.append(signals.get(timeout=T))

    rc = []
    t = threading.Thread(target=lambda: rc.append(ifrit.run(app, signals=(signal.SIGUSR1,))))
    t.start()
    t.join(T)
    assert rc == [0] and got == [signal.SIGUSR1]
    assert seen[0][0] >= 1


def test_validation():
    with pytest.raises(TypeError):
        ifrit.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ifrit.run(lambda s, r: None, name=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ifrit.run(lambda s, r: None, signals=(0,))
