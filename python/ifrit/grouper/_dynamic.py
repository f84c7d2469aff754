"""DynamicGroup and DynamicClient: a group that runs members as they arrive.

Threads: the group loop runs on the group's process thread; client calls
come from any thread. All shared state of a run (a ``_Session``) is guarded
by one lock; inserting threads wait on a condition of that lock (for the
run to start, or for room), and the loop waits with
``select(signals, events, wake)``: ``events`` receives the core's ready/exit
tags of every member, ``wake`` a token when the client closes the group.
A member is started by the inserting thread, under the lock, so the loop and
a signal never miss it. Listener mailboxes never block the loop (``put``
never blocks).
"""

from __future__ import annotations

import signal as _signal
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ifrit import Closed, Event, Mailbox, Process, Signals, background, select
from ifrit._process import _check_timeout
from ifrit.grouper._events import (
    DuplicateNamesError,
    EntranceEvent,
    ExitEvent,
    GroupClosedError,
)
from ifrit.grouper._members import Member, to_member
from ifrit.grouper._static import check_signal

__all__ = ["DynamicClient", "DynamicGroup"]

_PENDING, _RUNNING, _DONE = 0, 1, 2
_READY, _EXIT = 0, 1


class _Slot:
    """One inserted member during its life in the group."""

    __slots__ = ("entered", "member", "process")

    def __init__(self, member: Member, process: Process) -> None:
        self.member = member
        self.process = process
        self.entered = False


class _Session:
    """The state of one run of a DynamicGroup (or of the run to come)."""

    def __init__(self, buffer_size: int) -> None:
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.state = _PENDING
        self.closed = False
        self.closed_event = Event()
        self.signaled = False  # a signal was forwarded: the group's or the termination one
        self.running: dict[str, _Slot] = {}
        self.unentered = 0  # running members without an entrance event yet
        self.events: Mailbox[tuple[int, _Slot]] = Mailbox()
        self.wake: Mailbox[None] = Mailbox()
        self.entrances: deque[EntranceEvent] = deque(maxlen=buffer_size)
        self.exits: deque[ExitEvent] = deque(maxlen=buffer_size)
        self.entrance_listeners: list[Mailbox[EntranceEvent]] | None = []
        self.exit_listeners: list[Mailbox[ExitEvent]] | None = []

    # ---- everything below: with self.lock held

    def close_locked(self) -> None:
        if not self.closed:
            self.closed = True
            self.closed_event.set()
            self.cond.notify_all()
        self.settle_locked()

    def settle_locked(self) -> None:
        """Close the entrance listeners once no entrance event can come."""
        if self.closed and self.unentered == 0 and self.entrance_listeners is not None:
            for mb in self.entrance_listeners:
                mb.close()
            self.entrance_listeners = None

    def enter_locked(self, slot: _Slot) -> None:
        slot.entered = True
        self.unentered -= 1
        event = EntranceEvent(slot.member, slot.process)
        self.entrances.append(event)
        _broadcast(self.entrance_listeners, event)
        self.settle_locked()

    def finish_locked(self) -> None:
        self.state = _DONE
        self.close_locked()
        for listeners in (self.entrance_listeners, self.exit_listeners):
            for mb in listeners or ():
                mb.close()
        self.entrance_listeners = self.exit_listeners = None
        self.cond.notify_all()


def _broadcast(listeners: list[Mailbox[Any]] | None, event: object) -> None:
    if not listeners:
        return
    gone = None
    for mb in listeners:
        try:
            mb.put(event)
        except Closed:  # the reader closed it: stop feeding it
            gone = [] if gone is None else gone
            gone.append(mb)
    for mb in gone or ():
        listeners.remove(mb)


class DynamicClient:
    """Controls a :class:`DynamicGroup` and watches its members; thread-safe.

    Get it from ``group.client``. It addresses the group's latest run (or,
    before the group runs, the run to come): a new run of the group starts
    open, with no members and no past events.
    """

    __slots__ = ("_group",)

    def __init__(self, group: DynamicGroup) -> None:
        self._group = group

    def insert(self, member: Member | tuple[str, Any], timeout: float | None = None) -> Process:
        """Start ``member`` (a :class:`Member` or a ``(name, runner)`` pair) in
        the group and return its process.

        Waits while the group has not started running yet, and while it is
        full (``max_capacity`` members running). Raises
        :class:`GroupClosedError` once the group is closed (also when that
        happens while waiting), :class:`DuplicateNamesError` if a running
        member has that name, ``TimeoutError`` if ``timeout`` seconds pass
        while waiting.
        """
        member = to_member(member, "member")
        limit = _check_timeout(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        s = self._group._session_now()
        capacity = self._group.max_capacity
        name = member.name
        with s.cond:
            while True:
                if s.closed:
                    raise GroupClosedError(
                        f"cannot insert {name!r}: the dynamic group is closed"
                    )
                if s.state == _RUNNING:
                    if name in s.running:
                        raise DuplicateNamesError([name])
                    if capacity is None or len(s.running) < capacity:
                        break
                if deadline is None:
                    s.cond.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        why = "run" if s.state == _PENDING else "have room"
                        raise TimeoutError(
                            f"cannot insert {name!r}: the dynamic group did not {why} "
                            f"within {limit:g} s"
                        )
                    s.cond.wait(remaining)
            process = background(member.runner, name=name)
            slot = _Slot(member, process)
            try:
                process._subscribe(s.events, (_READY, slot), (_EXIT, slot))
            except BaseException:  # out of memory: the group could not watch it
                process.signal(_signal.SIGKILL)
                raise
            s.running[name] = slot
            s.unentered += 1
        return process

    def close(self) -> None:
        """Take no more members; the group exits once its members have
        exited. Signals nobody. Idempotent."""
        s = self._group._session_now()
        with s.lock:
            was_closed = s.closed
            s.close_locked()
        if not was_closed:
            s.wake.put(None)

    @property
    def closed(self) -> Event:
        """An :class:`ifrit.Event` set once the group is closed (usable in
        :func:`ifrit.select`)."""
        return self._group._session_now().closed_event

    def entrance_listener(self) -> Mailbox[EntranceEvent]:
        """A new mailbox of :class:`EntranceEvent`: first up to
        ``event_buffer_size`` of the most recent ones, then each new one. It
        is closed once no more can come (the group is closed and every member
        has entered, or the run is over)."""
        return self._listen("entrances", "entrance_listeners")

    def exit_listener(self) -> Mailbox[ExitEvent]:
        """A new mailbox of :class:`ExitEvent`: first up to
        ``event_buffer_size`` of the most recent ones, then each new one. It
        is closed when the run is over."""
        return self._listen("exits", "exit_listeners")

    def _listen(self, buffered: str, listeners: str) -> Mailbox[Any]:
        """A new listener mailbox: the session's buffered events of one kind
        first, then (registered in ``listeners``) each new one; closed at
        once when no more of them can come (``listeners`` is None)."""
        s = self._group._session_now()
        mb: Mailbox[Any] = Mailbox()
        with s.lock:
            for event in getattr(s, buffered):
                mb.put(event)
            registered = getattr(s, listeners)
            if registered is None:
                mb.close()
            else:
                registered.append(mb)
        return mb

    def get(self, name: str) -> Process | None:
        """The process of the running member called ``name``; None at once if
        there is none or the group is not running."""
        s = self._group._session_now()
        with s.lock:
            if s.state != _RUNNING:
                return None
            slot = s.running.get(name)
            return None if slot is None else slot.process

    def __repr__(self) -> str:
        return f"<grouper.DynamicClient of {self._group!r}>"


class DynamicGroup:
    """A group that starts empty and runs members as they are inserted.

    ``DynamicGroup(termination_signal=SIGINT, max_capacity=None,
    event_buffer_size=0)``: ready at once; runs at most ``max_capacity``
    members at a time (None: no limit; below 1 is a ``ValueError``); keeps
    the ``event_buffer_size`` most recent entrance and exit events for new
    listeners. Members are inserted, the group closed, and its members
    watched through :attr:`client` (a :class:`DynamicClient`).

    Contract:

    - it runs until it is closed *and* empty; it never exits just because it
      became empty while open (Go's could, when it had been full);
    - a signal to the group closes it and is forwarded to every running
      member (every signal it receives, not only the first);
    - if ``termination_signal`` is not None, the first member exit before the
      group forwarded any signal sends ``termination_signal`` to the others
      and closes the group; with None, a member's exit affects no one;
    - closing alone signals nobody; ``close()`` is idempotent; inserting
      into a closed group raises :class:`GroupClosedError`;
    - every member yields an :class:`EntranceEvent` (when ready, or when it
      exits without having been ready) and then an :class:`ExitEvent`; the
      process in the entrance event is what ``client.get(name)`` returns;
      once the exit event can be read, ``get`` no longer returns it and the
      name can be inserted again;
    - the group always exits cleanly: member errors are reported only
      through exit events.

    Each run has its own state; the client addresses the latest run (see
    :class:`DynamicClient`).
    """

    __slots__ = ("_lock", "_session", "client", "event_buffer_size", "max_capacity", "termination_signal")

    def __init__(
        self,
        termination_signal: int | None = _signal.SIGINT,
        max_capacity: int | None = None,
        event_buffer_size: int = 0,
    ) -> None:
        self.termination_signal = check_signal(termination_signal)
        if max_capacity is not None:
            if isinstance(max_capacity, bool) or not isinstance(max_capacity, int):
                raise TypeError(f"max_capacity must be an int or None, not {max_capacity!r}")
            if max_capacity < 1:
                raise ValueError(f"max_capacity must be at least 1 (or None), got {max_capacity}")
        if isinstance(event_buffer_size, bool) or not isinstance(event_buffer_size, int):
            raise TypeError(f"event_buffer_size must be an int, not {event_buffer_size!r}")
        if event_buffer_size < 0:
            raise ValueError(f"event_buffer_size must be >= 0, got {event_buffer_size}")
        self.max_capacity = max_capacity
        self.event_buffer_size = event_buffer_size
        self._lock = threading.Lock()
        self._session = _Session(event_buffer_size)
        self.client = DynamicClient(self)

    def __repr__(self) -> str:
        return (
            f"grouper.DynamicGroup(termination_signal={self.termination_signal!r}, "
            f"max_capacity={self.max_capacity!r})"
        )

    def _session_now(self) -> _Session:
        with self._lock:
            return self._session

    def _claim(self) -> _Session:
        """The session a new run owns: the pending one, else a fresh one."""
        with self._lock:
            s = self._session
            if s.state != _PENDING:
                s = self._session = _Session(self.event_buffer_size)
            with s.lock:
                s.state = _RUNNING
                s.cond.notify_all()
        return s

    def run(self, signals: Signals, ready: Callable[[], None]) -> None:
        """Run the group (see the class docstring); always returns None."""
        s = self._claim()
        term = self.termination_signal
        events = s.events
        wake = s.wake
        ready()
        try:
            while True:
                with s.lock:
                    if s.closed and not s.running:
                        s.finish_locked()
                        return None
                index, value = select(signals, events, wake)
                to_signal: list[Process] = []
                sig = value
                if index == 0:
                    with s.lock:
                        s.signaled = True
                        s.close_locked()
                        to_signal = [slot.process for slot in s.running.values()]
                elif index == 1:
                    kind, slot = value
                    with s.lock:
                        if kind == _READY:
                            s.enter_locked(slot)
                            continue
                        if not slot.entered:
                            s.enter_locked(slot)
                        del s.running[slot.member.name]
                        s.cond.notify_all()
                        event = ExitEvent(slot.member, slot.process._exit_error)
                        s.exits.append(event)
                        _broadcast(s.exit_listeners, event)
                        if not s.signaled and term is not None:
                            s.signaled = True
                            s.close_locked()
                            to_signal = [other.process for other in s.running.values()]
                            sig = term
                for p in to_signal:
                    p.signal(sig)
        except BaseException:
            # The loop itself failed: close, stop the members, wait for them.
            with s.lock:
                s.close_locked()
                procs = [slot.process for slot in s.running.values()]
            for p in procs:
                if term is not None:
                    p.signal(term)
            for p in procs:
                p.wait()
            with s.lock:
                s.finish_locked()
            raise
