"""ifrit: the Go process model ifrit for Python, on a small C core.

Map of the package (dependencies point down):

    ifrit (this module)   Runner, RunFunc, Process, background, invoke, errors
    ifrit.restart, ifrit.sigmon, ifrit.proxy   restarts, OS signals (run), signal forwarding
    ifrit.testing         helpers for tests: invoke, interrupt, kill, FakeRunner, SignalRecorder
    ifrit._process        the Python side of processes: runner resolution, names, await, invoke
    ifrit._core           the one native boundary (Cython): Event, Mailbox, Signals, select,
                          the Proc mechanism, the thread pool's Python thread states
    csrc/ (C, no Python)  park/wake, events, mailboxes, procs, select, thread pool

A runner is ``fn(signals, ready)`` or an object with ``run(signals, ready)``;
``background``/``invoke`` run it on a pool thread as a :class:`Process`.
"""

import os as _os

from ifrit._core import CLOSED, Closed, Event, Mailbox, Signals, select
from ifrit._core import _after_fork_child
from ifrit._process import (
    Process,
    RunFunc,
    Runner,
    StartError,
    StartTimeout,
    background,
    invoke,
)
from ifrit._run import run
from ifrit._version import __version__

__all__ = [
    "CLOSED",
    "Closed",
    "Event",
    "Mailbox",
    "Process",
    "RunFunc",
    "Runner",
    "Signals",
    "StartError",
    "StartTimeout",
    "__version__",
    "background",
    "invoke",
    "run",
    "select",
]

if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_child)
