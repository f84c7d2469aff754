"""Implementation of :mod:`ifrit.proxy` (see its docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ifrit._core import CLOSED, Signals, select
from ifrit._process import ReadyFn, Runner, _resolve, background

if TYPE_CHECKING:
    from ifrit._core import Waitable

__all__ = ["Proxy", "new"]


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
        process = background(self.runner, name=self.name)
        source: Signals | None = self.source
        waiting_ready = True
        try:
            while True:
                ws: list[Waitable] = [process.exit_event, signals]
                if waiting_ready:
                    ws.insert(0, process.ready_event)
                if source is not None:
                    ws.append(source)
                i, value = select(*ws)
                if waiting_ready:
                    if i == 0:
                        ready()
                        waiting_ready = False
                        continue
                    i -= 1
                if i == 0:
                    break
                if value is CLOSED:
                    if i == 2:
                        source = None
                    continue
                process.signal(value)
        except BaseException:
            process.signal()
            process.wait()
            raise
        error = process.wait()
        if error is not None:
            raise error

    def __repr__(self) -> str:
        return f"Proxy({self.source!r}, {self.runner!r})"


def new(source: Signals, runner: Runner | Callable[[Signals, ReadyFn], object]) -> Proxy:
    """Go's ``proxy.New``: the same as ``Proxy(source, runner)``."""
    return Proxy(source, runner)
