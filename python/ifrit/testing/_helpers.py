"""Implementation of ``ifrit.testing`` (see the package docstring)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import ifrit
from ifrit import Event, Mailbox, Process, Signals

__all__ = ["FakeRunner", "SignalRecorder", "interrupt", "invoke", "kill"]

ReadyFn = Callable[[], None]

#: SIGKILL (9 on Windows, whose ``signal`` module has no SIGKILL: ifrit signals are plain ints there).
_SIGKILL: signal.Signals | int = getattr(signal, "SIGKILL", 9)


def invoke(runner: object, timeout: float = 5.0) -> Process:
    """Start ``runner``; fail unless its process is ready within ``timeout`` s.

    A process that exits before it is ready fails the test (with its exit
    error as the cause); one that is not ready in time is sent SIGTERM first.
    """
    process = ifrit.background(runner)  # type: ignore[arg-type]
    try:
        ready = process.wait_ready(timeout)
    except TimeoutError:
        process.signal(signal.SIGTERM)
        raise AssertionError(
            f"process {process.name!r} was not ready within {timeout:g} s (sent it SIGTERM)"
        ) from None
    if not ready:
        error = process.wait(0)
        raise AssertionError(
            f"process {process.name!r} exited before it was ready, with {error!r}"
        ) from error
    return process


def _stop(process: Process, sig: signal.Signals | int, timeout: float) -> BaseException | None:
    if not isinstance(process, Process):
        raise TypeError(f"expected an ifrit.Process, not {type(process).__name__}")
    process.signal(sig)
    try:
        return process.wait(timeout)
    except TimeoutError:
        raise AssertionError(
            f"process {process.name!r} did not exit within {timeout:g} s of {getattr(sig, 'name', sig)}"
        ) from None


def interrupt(process: Process, timeout: float = 5.0) -> BaseException | None:
    """Send SIGINT; fail unless the process exits within ``timeout`` s. Returns its exit error."""
    return _stop(process, signal.SIGINT, timeout)


def kill(process: Process, timeout: float = 5.0) -> BaseException | None:
    """Send SIGKILL; fail unless the process exits within ``timeout`` s. Returns its exit error."""
    return _stop(process, _SIGKILL, timeout)


class FakeRunner:
    """A runner a test drives by hand; thread-safe; may be run many times.

    Each run announces itself (``wait_for_call`` returns that run's signals),
    then waits: ``trigger_ready()`` makes the current run call ready();
    ``trigger_exit(error)`` makes it exit (raising ``error`` if not None);
    ``ensure_exit()`` makes the current and every future run exit cleanly.
    Triggers sent while no run is waiting are kept for the next run. The
    runner never reacts to signals by itself: a test reads them from the
    ``Signals`` that ``wait_for_call`` returned.
    """

    def __init__(self, name: str = "FakeRunner") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._count = 0
        self._calls: Mailbox[Signals] = Mailbox()
        self._ready: Mailbox[None] = Mailbox()
        self._exits: Mailbox[BaseException | None] = Mailbox()
        self._exit_all = Event()

    @property
    def call_count(self) -> int:
        """How many times the runner has been run."""
        with self._lock:
            return self._count

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        with self._lock:
            self._count += 1
        self._calls.put(signals)
        index, value = ifrit.select(self._exit_all, self._exits, self._ready)
        if index == 2:  # ready first, then wait for the exit
            ready()
            index, value = ifrit.select(self._exit_all, self._exits)
        if index == 1 and value is not None:
            raise value

    def wait_for_call(self, timeout: float = 5.0) -> Signals:
        """Wait for the next run to start; return the ``Signals`` it got."""
        try:
            return self._calls.get(timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} was not run within {timeout:g} s") from None

    def trigger_ready(self) -> None:
        """Make the current (or next) run call ready()."""
        self._ready.put(None)

    def trigger_exit(self, error: BaseException | None = None) -> None:
        """Make the current (or next) run exit, with ``error`` if not None."""
        if error is not None and not isinstance(error, BaseException):
            raise TypeError(f"error must be an exception or None, not {type(error).__name__}")
        self._exits.put(error)

    def ensure_exit(self) -> None:
        """Make the current run and every future run exit cleanly."""
        self._exit_all.set()

    def __repr__(self) -> str:
        return f"<FakeRunner {self.name!r} runs={self.call_count}>"


class SignalRecorder:
    """A runner that becomes ready at once and records every signal it gets.

    It exits (cleanly) on any of ``exit_signals`` and always on SIGINT and
    SIGKILL. ``received`` is a copy of the signals recorded so far, in order,
    across runs.
    """

    def __init__(self, *exit_signals: int, name: str = "SignalRecorder") -> None:
        for sig in exit_signals:
            if isinstance(sig, bool) or not isinstance(sig, int):
                raise TypeError(f"exit signals must be ints, not {type(sig).__name__}: {sig!r}")
        self.name = name
        self.exit_signals = frozenset(exit_signals) | {signal.SIGINT, _SIGKILL}
        self._lock = threading.Lock()
        self._received: list[signal.Signals | int] = []

    @property
    def received(self) -> list[signal.Signals | int]:
        with self._lock:
            return list(self._received)

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        ready()
        for sig in signals:
            with self._lock:
                self._received.append(sig)
            if sig in self.exit_signals:
                return

    def __repr__(self) -> str:
        return f"<SignalRecorder {self.name!r} received={self.received!r}>"
