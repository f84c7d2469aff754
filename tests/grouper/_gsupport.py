"""Runners and helpers for the grouper tests (no sleeps as synchronization)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ifrit

DEADLINE = 10.0


class Log:
    """A thread-safe log of what members did; ``wait_for`` blocks on a mailbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Any, ...]] = []
        self._changed: ifrit.Mailbox[None] = ifrit.Mailbox()

    def add(self, *item: Any) -> None:
        with self._lock:
            self._items.append(item)
        self._changed.put(None)

    @property
    def items(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._items)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [i[1:] for i in self.items if i[0] == kind]

    def wait_for(self, *item: Any, timeout: float = DEADLINE) -> None:
        """Block until ``item`` has been logged."""
        deadline = time.monotonic() + timeout
        while item not in self.items:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{item!r} not logged within {timeout} s: {self.items!r}")
            try:
                self._changed.get(timeout=remaining)
            except TimeoutError:
                pass


class Worker:
    """A member runner that logs what it does to ``log``.

    Logs ("start", name); waits for ``ready_gate`` (an ifrit.Event) if given;
    becomes ready unless ``ready`` is False and logs ("ready", name); logs
    ("signal", name, sig) for every signal; exits on a signal in ``exit_on``
    (default SIGINT and SIGTERM), or when ``exit_gate`` is set, after
    ``stop_delay`` s of simulated shutdown work and/or waiting for
    ``stop_gate``; logs ("exit", name) and raises ``error`` if given.
    """

    def __init__(
        self,
        name: str,
        log: Log,
        *,
        ready: bool = True,
        exit_on: Iterable[int] = (signal.SIGINT, signal.SIGTERM),
        stop_delay: float = 0.0,
        error: BaseException | None = None,
        ready_gate: ifrit.Event | None = None,
        stop_gate: ifrit.Event | None = None,
        exit_gate: ifrit.Event | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self.ready = ready
        self.exit_on = frozenset(exit_on)
        self.stop_delay = stop_delay
        self.error = error
        self.ready_gate = ready_gate
        self.stop_gate = stop_gate
        self.exit_gate = exit_gate

    def run(self, signals: ifrit.Signals, ready: Callable[[], None]) -> None:
        self.log.add("start", self.name)
        waitables: list[Any] = [signals]
        if self.exit_gate is not None:
            waitables.append(self.exit_gate)
        if self.ready_gate is not None:
            while True:
                index, value = ifrit.select(*waitables, self.ready_gate, timeout=30)
                if index == len(waitables):
                    break
                if index == 1 or self._signaled(value):
                    return self._exit()
        if self.ready:
            ready()
            self.log.add("ready", self.name)
        while True:
            index, value = ifrit.select(*waitables, timeout=30)
            if index == 1 or self._signaled(value):
                return self._exit()

    def _signaled(self, sig: int) -> bool:
        self.log.add("signal", self.name, sig)
        return sig in self.exit_on

    def _exit(self) -> None:
        if self.stop_delay:
            threading.Event().wait(self.stop_delay)  # simulated shutdown work
        if self.stop_gate is not None:
            self.stop_gate.wait(30)
        self.log.add("exit", self.name)
        if self.error is not None:
            raise self.error


def until_signal(signals: ifrit.Signals, ready: Callable[[], None]) -> None:
    ready()
    signals.get(timeout=30)


def stop(process: ifrit.Process, sig: int = signal.SIGINT, timeout: float = DEADLINE) -> Any:
    """Signal ``process`` and return its exit error."""
    process.signal(sig)
    return process.wait(timeout)
