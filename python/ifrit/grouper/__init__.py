"""Groups of processes (Go's ``ifrit/grouper``): start and stop many runners as one.

Map of the package:

    Parallel, Ordered, QueueOrdered   static groups (_static.py): one engine,
                                      start strategy and stop order differ
    DynamicGroup, DynamicClient       a group that runs members as they are
                                      inserted (_dynamic.py)
    Member                            a runner with a unique name (_members.py)
    ErrorTrace, ExitEvent,            what groups report (_events.py)
    EntranceEvent, DuplicateNamesError, GroupClosedError

A group is itself a runner: run it with ``ifrit.invoke``/``background``, or
nest it in another group. Members are given as a list of :class:`Member`, a
list of ``(name, runner)`` pairs, or a dict ``{name: runner}``; names must be
unique (:class:`DuplicateNamesError`, raised when the group is built).

Where this differs from Go's grouper (whose doc said every group passes
every signal to every running member): ordered groups signal one member at a
time, in stop order; a repeated stop signal is not passed on; a group returns
only after every member it started has exited; duplicate names fail when the
group is built; a DynamicGroup never exits just because it became empty while
open, and inserting into a closed group raises instead of blocking forever.

Every group watches its members through one mailbox that the C core feeds
with ready/exit events, so a member event costs O(1) and starting or stopping
N members O(N) in total. All state lives in each run: one group object can be
run again, or twice at once.
"""

from ifrit.grouper._dynamic import DynamicClient, DynamicGroup
from ifrit.grouper._events import (
    DuplicateNamesError,
    EntranceEvent,
    ErrorTrace,
    ExitEvent,
    GroupClosedError,
)
from ifrit.grouper._members import Member
from ifrit.grouper._static import Ordered, Parallel, QueueOrdered

__all__ = [
    "DuplicateNamesError",
    "DynamicClient",
    "DynamicGroup",
    "EntranceEvent",
    "ErrorTrace",
    "ExitEvent",
    "GroupClosedError",
    "Member",
    "Ordered",
    "Parallel",
    "QueueOrdered",
]
