"""Implementation of :mod:`ifrit.proxy` (see its docstring)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from ifrit._core import CLOSED, Signals, select
from ifrit._process import ReadyFn, Runner, _resolve, background

if TYPE_CHECKING:
    from ifrit._core import Waitable

__all__ = ["Proxy", "new"]


def forward(
    runner: Runner | Callable[[Signals, ReadyFn], object],
    name: str,
    ready: ReadyFn,
    sources: list[Waitable],
) -> None:
    """Run ``runner`` as a child process and forward to it every signal taken
    from ``sources`` (earlier ones first when several have one); call
    ``ready`` once the child is ready; return or raise the child's exit
    error once it exits. A source that closes is dropped. If this thread
    fails meanwhile (Ctrl-C), the child is sent SIGTERM and waited for.
    The loop under :class:`Proxy` and :class:`ifrit.sigmon.Sigmon`."""
    process = background(runner, name=name)
    try:
        watched: list[Waitable] = [process.exit_event, *sources]
        waiting_ready = True
        while True:
            if waiting_ready:
                i, value = select(process.ready_event, *watched)
                if i == 0:
                    ready()
                    waiting_ready = False
                    continue
                i -= 1
            else:
                i, value = select(*watched)
            if i == 0:
                break
            if value is CLOSED:
                del watched[i]
                continue
            process.signal(value)
    except BaseException:
        process.signal(signal.SIGTERM)
        process.wait()
        raise
    error = process.wait()
    if error is not None:
        raise error


class Proxy:
    """Run ``runner``, forwarding signals from ``source`` and from the Proxy's
    own signals; ready when it is ready; exits with its exit error.

    Keeps no state between runs (``source`` is shared by every run, though:
    each signal taken from it goes to one run only).
    """

    __slots__ = ("source", "runner", "name")

    def __init__(self, source: Signals, runner: Runner | Callable[[Signals, ReadyFn], object]) -> None:
        _, name = _resolve(runner)
        self.source = source
        self.runner = runner
        self.name = name

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        forward(self.runner, self.name, ready, [signals, self.source])

    def __repr__(self) -> str:
        return f"Proxy({self.source!r}, {self.runner!r})"


def new(source: Signals, runner: Runner | Callable[[Signals, ReadyFn], object]) -> Proxy:
    """Go's ``proxy.New``: the same as ``Proxy(source, runner)``."""
    return Proxy(source, runner)
