"""Implementation of :mod:`ifrit.sigmon` (see its docstring)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable

from ifrit import _core
from ifrit._core import Signals
from ifrit._process import ReadyFn, Runner, _resolve
from ifrit._proxy import forward

__all__ = ["Sigmon", "new"]


def _signal_tuple(signals: Iterable[object]) -> tuple[int, ...]:
    out: list[int] = []
    for sig in signals:
        if isinstance(sig, bool) or not isinstance(sig, int):
            raise TypeError(f"a signal must be an int or signal.Signals, not {type(sig).__name__}: {sig!r}")
        try:
            sig = signal.Signals(sig)
        except ValueError:
            raise ValueError(f"not an OS signal number: {sig!r}") from None
        if sig not in out:
            out.append(sig)
    return tuple(out)


class Sigmon:
    """Run ``runner`` with the OS signals ``signals`` + SIGINT + SIGTERM forwarded to it.

    - the OS handlers are installed before ``runner`` starts, and the
      previous ones restored exactly when it has exited;
    - delivered OS signals and signals sent to the Sigmon are forwarded to
      ``runner`` (in the order they are taken);
    - ready when ``runner`` is ready; exits with its exit error.

    Keeps no state between runs: one Sigmon can run several times, or twice
    at once.
    """

    __slots__ = ("runner", "signals", "name")

    def __init__(self, runner: Runner | Callable[[Signals, ReadyFn], object], *signals: int) -> None:
        _, name = _resolve(runner)
        self.runner = runner
        self.signals: tuple[int, ...] = _signal_tuple((*signals, signal.SIGINT, signal.SIGTERM))
        self.name = name

    @classmethod
    def _exactly(cls, runner: object, signals: Iterable[int]) -> Sigmon:
        """A Sigmon that watches exactly ``signals`` (used by ``ifrit.run``)."""
        self = cls(runner)  # type: ignore[arg-type]
        self.signals = _signal_tuple(signals)
        return self

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        sub = _core.SigSub(*self.signals)  # handlers in place before the runner starts
        try:
            # A subscription closes under us only in a forked child: dropped.
            forward(self.runner, self.name, ready, [sub, signals])
        finally:
            sub.close()

    def __repr__(self) -> str:
        names = ", ".join(s.name if isinstance(s, signal.Signals) else str(s) for s in self.signals)
        return f"Sigmon({self.runner!r}, [{names}])"


def new(runner: Runner | Callable[[Signals, ReadyFn], object], *signals: int) -> Sigmon:
    """Go's ``sigmon.New``: the same as ``Sigmon(runner, *signals)``."""
    return Sigmon(runner, *signals)
