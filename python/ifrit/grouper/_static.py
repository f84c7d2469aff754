"""Static groups: Parallel, Ordered and QueueOrdered over one shared engine.

The three groups differ only in two class attributes read by
:meth:`_StaticGroup.run`: whether members start all at once or each after
the previous one is ready, and the order in which they are stopped.

Cost model: every member process is subscribed to one events mailbox of the
run (``_subscribe(events, 2*i, 2*i + 1)``: the core puts ``2*i`` there when
member ``i`` becomes ready and ``2*i + 1`` when it exits, ready always
first), and the loop waits with ``select(signals, events)``. Each member
event is one mailbox item handled in O(1); starting and stopping N members
is O(N) in total. A signal that changes the stop signal during a Parallel
shutdown costs O(N) (it is forwarded to every live member).
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable
from contextvars import copy_context
from typing import ClassVar

from ifrit import Mailbox, Process, Signals, background, select
from ifrit._core import _MAKE, _signal_all, _start_all
from ifrit._process import _resolve
from ifrit.grouper._events import ErrorTrace, ExitEvent
from ifrit.grouper._members import Member, MembersArg, to_members

__all__ = ["Ordered", "Parallel", "QueueOrdered", "check_signal"]

_STOP_ALL = "all"  # signal every live member at once
_STOP_REVERSE = "reverse"  # one at a time, last started first
_STOP_FORWARD = "forward"  # one at a time, first started first


def check_signal(sig: object) -> int | None:
    """Validate a termination signal: None or an int (``signal.Signals``)."""
    if sig is None:
        return None
    if isinstance(sig, bool) or not isinstance(sig, int):
        raise TypeError(f"termination_signal must be a signal (int) or None, not {sig!r}")
    return sig


class _StaticGroup:
    """The engine shared by :class:`Parallel`, :class:`Ordered` and
    :class:`QueueOrdered`; see their docstrings for the contract."""

    _parallel_start: ClassVar[bool]
    _stop_order: ClassVar[str]

    __slots__ = ("members", "termination_signal")

    def __init__(
        self, members: MembersArg, termination_signal: int | None = _signal.SIGINT
    ) -> None:
        self.termination_signal = check_signal(termination_signal)
        self.members: tuple[Member, ...] = to_members(members)

    def __repr__(self) -> str:
        names = ", ".join(repr(m.name) for m in self.members[:5])
        if len(self.members) > 5:
            names += f", ... ({len(self.members)} members)"
        return f"grouper.{type(self).__name__}([{names}])"

    def run(self, signals: Signals, ready: Callable[[], None]) -> None:
        """Run the group (see the class docstring). Every bit of state lives
        in this call, so one group object can run again, or twice at once."""
        members = self.members
        n = len(members)
        term = self.termination_signal
        parallel = self._parallel_start
        events: Mailbox[int] = Mailbox()
        procs: list[Process] = []
        exited = bytearray(n)
        trace: list[ExitEvent] = []
        poll_signal = signals.poll
        poll_event = events.poll

        def record(i: int) -> None:
            exited[i] = 1
            trace.append(ExitEvent(members[i], procs[i]._exit_error))

        stop: int | None = None  # the stop signal, once shutting down
        try:
            # ---- start: until every member is ready, a signal, or an exit
            started = 0
            nready = 0
            shutting_down = False
            if parallel and n:
                # Make every process first, then start them all from C with
                # the GIL released: members run while the rest are started.
                # A signal pending stops the start between two members.
                prepared = [Process(member.name, _MAKE) for member in members]
                for i, p in enumerate(prepared):
                    p._prepare(_resolve(members[i].runner)[0], copy_context())
                    p._subscribe(events, 2 * i, 2 * i + 1)
                started, error = _start_all(prepared, signals)
                procs.extend(prepared[:started])
                del prepared
                if error is not None:
                    raise error
                if started < n:  # a signal is pending
                    sig = poll_signal()
                    stop, shutting_down = (sig if sig is not None else term), True
            while nready < n and not shutting_down:
                if started == nready:  # ordered: start the next one
                    member = members[started]
                    p = background(member.runner, name=member.name)
                    procs.append(p)
                    p._subscribe(events, 2 * started, 2 * started + 1)
                    started += 1
                    sig = poll_signal()
                    if sig is not None:
                        stop, shutting_down = sig, True
                        break
                    tag = poll_event()
                    if tag is None:
                        continue
                else:
                    index, value = select(signals, events)
                    if index == 0:
                        stop, shutting_down = value, True
                        break
                    tag = value
                if tag & 1:
                    record(tag >> 1)
                    stop, shutting_down = term, True
                    break
                nready += 1

            # ---- running: until a signal or a member exit
            if not shutting_down:
                ready()
                while True:
                    index, value = select(signals, events)
                    if index == 0:
                        stop = value
                        break
                    if value & 1:
                        record(value >> 1)
                        stop = term
                        break

            # ---- shutdown
            if self._stop_order == _STOP_ALL:
                if stop is not None:
                    _signal_all(procs, exited, stop)
                live = started - len(trace)
                while live:
                    index, value = select(signals, events)
                    if index == 0:
                        if value != stop:
                            stop = value
                            _signal_all(procs, exited, stop)
                    elif value & 1:
                        record(value >> 1)
                        live -= 1
            else:
                order = range(started)
                if self._stop_order == _STOP_REVERSE:
                    order = order[::-1]
                last = len(order) - 1
                for k, i in enumerate(order):
                    if exited[i]:
                        continue
                    if stop is not None:
                        procs[i].signal(stop)
                        if k < last:
                            # the next one to stop: wake it now, so its
                            # wake-up overlaps this member's shutdown
                            procs[order[k + 1]]._prewake()
                    while not exited[i]:
                        index, value = select(signals, events)
                        if index == 0:
                            if value != stop:
                                stop = value
                                procs[i].signal(stop)
                        elif value & 1:
                            record(value >> 1)
        except BaseException:
            # The group itself failed (say, no thread could be started): do
            # not leave members behind. Stop every live one, wait for each.
            sig = stop if stop is not None else term
            for i, p in enumerate(procs):
                if not exited[i] and sig is not None:
                    p.signal(sig)
            for p in procs:
                p.wait()
            raise

        for event in trace:
            if event.error is not None:
                raise ErrorTrace(trace)
        return None


_SIGNAL_RULES = """
    Signals and shutdown (``termination_signal=None`` means: never send one):

    - a signal the group receives starts its shutdown, with that signal as
      the *stop signal*;
    - a member that exits before the group was signaled (while starting or
      after ready) starts the shutdown with ``termination_signal``;
    - a signal during start stops the start: members not started yet are
      never started, never signaled;
    - during shutdown, a signal equal to the current stop signal is ignored,
      a different one becomes the stop signal and is forwarded at once
      ({forward});
    - the group returns only once every member it started has exited. It
      exits cleanly (returns None) if no member exited with an error, else
      raises :class:`ErrorTrace` with every exit in the order recorded (the
      one that started the shutdown first). A start ended by a member's
      clean exit thus ends the group cleanly without it ever being ready.
"""


class Parallel(_StaticGroup):
    __doc__ = (
        """A group whose members start all at once and stop all at once.

    ``Parallel(members, termination_signal=SIGINT)``: ``members`` is a list
    of :class:`Member`, a list of ``(name, runner)`` pairs or a dict
    ``{name: runner}`` (names unique, else :class:`DuplicateNamesError`).
    Every member is started without waiting for the others; the group is
    ready once every member is ready (an empty group at once). Use it for
    concurrent, independent processes.

    Shutdown sends the stop signal to every running member at once, then
    waits for all of them.
"""
        + _SIGNAL_RULES.format(forward="to every member still running")
    )

    __slots__ = ()
    _parallel_start = True
    _stop_order = _STOP_ALL


class Ordered(_StaticGroup):
    __doc__ = (
        """A group whose members start one after another and stop in reverse.

    ``Ordered(members, termination_signal=SIGINT)`` (``members`` as for
    :class:`Parallel`): each member starts once the previous one is ready;
    the group is ready when the last one is (an empty group at once). Use it
    for dependent processes, each needing the previous one to be up.

    Shutdown goes one member at a time, last started first: signal it with
    the stop signal, wait for it to exit, then the next. A member that
    exited by itself meanwhile is recorded when it exits and skipped.
"""
        + _SIGNAL_RULES.format(
            forward="to the member being stopped; the members after it get it in turn"
        )
    )

    __slots__ = ()
    _parallel_start = False
    _stop_order = _STOP_REVERSE


class QueueOrdered(_StaticGroup):
    __doc__ = (
        """A group whose members start one after another and stop in the same order.

    ``QueueOrdered(members, termination_signal=SIGINT)``: starts like
    :class:`Ordered` (each member once the previous one is ready), but
    shuts down first started first: signal one member, wait for it to exit,
    then the next.
"""
        + _SIGNAL_RULES.format(
            forward="to the member being stopped; the members after it get it in turn"
        )
    )

    __slots__ = ()
    _parallel_start = False
    _stop_order = _STOP_FORWARD
