"""Group errors and events: ExitEvent, EntranceEvent, ErrorTrace and friends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ifrit import Process
    from ifrit.grouper._members import Member

__all__ = [
    "DuplicateNamesError",
    "EntranceEvent",
    "ErrorTrace",
    "ExitEvent",
    "GroupClosedError",
]


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """A member exited: ``error`` is its exit error, None for a clean exit."""

    member: Member
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class EntranceEvent:
    """A member of a dynamic group entered it: it became ready, or it exited
    without ever being ready. ``process`` is the member's process."""

    member: Member
    process: Process


class DuplicateNamesError(ValueError):
    """Two or more members share a name.

    ``.names`` lists each name that appears more than once, once, in the
    order of its first repetition.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names: list[str] = list(names)
        if len(self.names) == 1:
            message = f"duplicate member name: {self.names[0]!r}"
        else:
            message = "duplicate member names: " + ", ".join(repr(n) for n in self.names)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.names,))


class GroupClosedError(Exception):
    """The dynamic group is closed: it takes no more members."""


def _trace_message(trace: Sequence[ExitEvent]) -> str:
    lines = ["Exit trace for group:"]
    for event in trace:
        if event.error is None:
            lines.append(f"{event.member.name} exited with nil")
        else:
            lines.append(f"{event.member.name} exited with error: {event.error}")
    return "\n".join(lines)


def _as_exception(event: ExitEvent) -> Exception:
    error = event.error
    if isinstance(error, Exception):
        return error
    wrapped = RuntimeError(f"member {event.member.name!r} exited with {error!r}")
    wrapped.__cause__ = error
    return wrapped


class ErrorTrace(ExceptionGroup[Exception]):  # noqa: N818 (Go's name)
    """A group's members exited with errors.

    An :class:`ExceptionGroup` of the members' exit errors, so ``except*``
    works; an exit error that is not an :class:`Exception` (say
    ``KeyboardInterrupt``) appears in ``.exceptions`` wrapped in a
    ``RuntimeError`` whose ``__cause__`` is the original.

    ``.trace`` is every member exit (:class:`ExitEvent`, clean ones included,
    original errors) in the order the group recorded it: the exit that
    started the shutdown first, then the others in stop order. ``str()`` is
    ``Exit trace for group:`` followed by one line per exit,
    ``<name> exited with nil`` or ``<name> exited with error: <error>``.

    Construct it from the trace: ``ErrorTrace(trace)``; at least one event
    must carry an error. Splitting it (``except*``, ``.split``,
    ``.subgroup``) yields ``ErrorTrace`` objects whose trace holds only the
    exits whose errors went into that part.
    """

    trace: list[ExitEvent]
    _failed: dict[int, ExitEvent]  # id(one of .exceptions) -> its exit

    def __new__(cls, trace: Iterable[ExitEvent]) -> ErrorTrace:
        events = list(trace)
        for event in events:
            if not isinstance(event, ExitEvent):
                raise TypeError(f"ErrorTrace needs ExitEvents, got {type(event).__name__}")
        failed = [e for e in events if e.error is not None]
        if not failed:
            raise ValueError("ErrorTrace needs at least one exit with an error")
        return cls._make(events, failed, [_as_exception(e) for e in failed])

    @classmethod
    def _make(
        cls, events: list[ExitEvent], failed: list[ExitEvent], errors: list[Exception]
    ) -> ErrorTrace:
        self = super().__new__(cls, _trace_message(events), errors)
        self.trace = events
        self._failed = dict(zip(map(id, errors), failed, strict=True))
        return self

    def __init__(self, trace: Iterable[ExitEvent]) -> None:
        super().__init__(self.message, self.exceptions)

    def __str__(self) -> str:
        return self.message

    def derive(self, excs: Sequence[Exception]) -> ErrorTrace:  # type: ignore[override]
        # Called by except*, split() and subgroup() with a part of .exceptions.
        excs = list(excs)
        failed = [self._failed.get(id(x)) for x in excs]
        if not excs or None in failed:  # not ours: fall back to a plain group
            return ExceptionGroup(self.message, excs)  # type: ignore[return-value]
        events = [e for e in failed if e is not None]
        return type(self)._make(events, events, excs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.trace,))
