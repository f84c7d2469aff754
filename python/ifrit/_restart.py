"""Implementation of :mod:`ifrit.restart` (see its docstring)."""

from __future__ import annotations

import contextvars
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Union

from ifrit._core import Signals, select
from ifrit._process import ReadyFn, Runner, _resolve

__all__ = ["Backoff", "Restarter", "on_error"]

RunnerLike = Union[Runner, Callable[[Signals, ReadyFn], object]]
LoadFn = Callable[[Any, Union[BaseException, None]], Any]
#: ``sleep(signals, seconds)``: wait up to ``seconds`` for a signal on
#: ``signals``; return the signal taken, or None when the time has passed.
SleepFn = Callable[[Signals, float], object]


def _forever(signals: Signals, ready: ReadyFn, first: object,
             decide: Callable[[Any, Any, Signals], Any]) -> BaseException | None:
    """The restart loop; returns the last runner's exit error.

    The runners run one after the other right here, on the restarter's own
    thread, each in a fresh copy of this contextvars context (as
    ``ifrit.background`` would give it), with the restarter's own ``signals``
    and ``ready``: signals sent to the restarter reach the current runner
    directly, in order, and the restarter is ready once the first runner is.
    A restart costs a function call, not a thread hand-off.

    "Signaled" is read off the signal mailbox's sequence number, which
    changes on every signal sent: if it moved since the run began (or a
    signal is pending), some signal was sent, and nothing restarts. A signal
    sent before a runner's exit is therefore always seen, whether that runner
    took it or not.

    ``decide(runner, error, signals)`` returns the next runner or None; it may
    block (a backoff sleep) on ``signals``, and must return None if a signal
    ends that wait.
    """
    seq = signals._seq
    signaled = len(signals) > 0  # sent before the run began
    runner = first
    while True:
        fn, _ = _resolve(runner)
        error: BaseException | None = None
        try:
            contextvars.copy_context().run(fn, signals, ready)
        except BaseException as e:  # noqa: BLE001 - the run's exit error
            error = e
        if signaled or signals._seq != seq or len(signals) > 0:
            return error
        runner = decide(runner, error, signals)
        if runner is None:
            return error


def _raise(error: BaseException | None) -> None:
    if error is not None:
        raise error


class Restarter:
    """Run ``runner``; each time it exits, run ``load(runner, error)`` next.

    ``load`` returns the runner to run next (it may be the same one), or
    None to stop: the Restarter then exits with that last exit error. An
    exception raised by ``load`` becomes the Restarter's exit error.
    """

    __slots__ = ("runner", "load", "name")

    def __init__(self, runner: RunnerLike, load: LoadFn) -> None:
        _, name = _resolve(runner)
        if not callable(load):
            # Go returns ErrNoLoadCallback from Run; we fail when constructed.
            raise TypeError(f"load must be a callable load(runner, error), not {type(load).__name__}")
        self.runner = runner
        self.load = load
        self.name = name

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        load = self.load
        _raise(_forever(signals, ready, self.runner, lambda r, e, s: load(r, e)))

    def __repr__(self) -> str:
        return f"Restarter({self.runner!r}, {self.load!r})"


def _check_errors(errors: Iterable[object], what: str) -> tuple[object, ...]:
    errors = tuple(errors)
    for e in errors:
        if not (e is None or isinstance(e, BaseException)
                or (isinstance(e, type) and issubclass(e, BaseException))):
            raise TypeError(f"{what}: expected exception classes or instances, got {e!r}")
    return errors


def _matches(error: BaseException | None, errors: tuple[object, ...]) -> bool:
    """A class matches by isinstance, an instance (or None) by identity or equality."""
    for e in errors:
        if isinstance(e, type):
            if error is not None and isinstance(error, e):
                return True
        elif error is e:
            return True
        elif error is not None and e is not None:
            try:
                if error == e:
                    return True
            except Exception:  # a broken __eq__ is no match
                pass
    return False


class _OnError:
    __slots__ = ("errors",)

    def __init__(self, errors: tuple[object, ...]) -> None:
        self.errors = errors

    def __call__(self, runner: object, error: BaseException | None) -> object:
        return runner if _matches(error, self.errors) else None

    def __repr__(self) -> str:
        return f"on_error{self.errors!r}"


def on_error(runner: RunnerLike, *errors: type[BaseException] | BaseException) -> Restarter:
    """A :class:`Restarter` that runs ``runner`` again only when its exit
    error matches one of ``errors``: an exception class matches by
    ``isinstance``, an instance by identity or equality. A clean exit never
    matches (unless ``None`` is listed)."""
    return Restarter(runner, _OnError(_check_errors(errors, "on_error")))


def _wait_for_signal(signals: Signals, seconds: float) -> object:
    """The default backoff sleep: select on ``signals`` with a timeout."""
    try:
        return select(signals, timeout=max(0.0, seconds))[1]
    except TimeoutError:
        return None


class Backoff:
    """Restart ``runner`` on matching exit errors, with exponential backoff.

    - ``retry_on``: exception classes or instances (matched as by
      :func:`on_error`); any other exit, a clean one included, ends it;
    - the first restart waits ``initial`` seconds, each next one ``factor``
      times the previous, capped at ``maximum``; each delay is then varied
      by a uniform ± ``jitter`` × delay (never below 0). The sequence is not
      reset by a successful run;
    - ``max_restarts``/``within``: give up (exit with the last error) when a
      restart would make more than ``max_restarts`` restarts inside the
      sliding window of the last ``within`` seconds (``within=None``: ever).
      A restart is counted at the moment the exit is seen (before the
      sleep). An always-failing runner thus runs ``max_restarts + 1``
      times; ``max_restarts=None`` never gives up;
    - the sleep is interrupted by a signal: the Backoff then exits at once
      with the last runner's exit error.

    Testing hooks (keyword-only): ``clock()`` returns monotonic seconds
    (default ``time.monotonic``); ``sleep(signals, seconds)`` waits up to
    ``seconds`` for a signal and returns it, or None when the time passed
    (default: ``ifrit.select(signals, timeout=seconds)``); ``rng`` is a
    ``random.Random`` for the jitter. A fake clock whose ``sleep`` advances
    it checks the whole timeline without waiting.
    """

    __slots__ = ("runner", "retry_on", "initial", "maximum", "factor", "jitter",
                 "max_restarts", "within", "clock", "sleep", "rng", "name")

    def __init__(
        self,
        runner: RunnerLike,
        *,
        retry_on: type[BaseException] | BaseException | Iterable[type[BaseException] | BaseException] = (Exception,),
        initial: float = 0.1,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.1,
        max_restarts: int | None = None,
        within: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: SleepFn | None = None,
        rng: random.Random | None = None,
    ) -> None:
        _, name = _resolve(runner)
        if isinstance(retry_on, (type, BaseException)):
            retry_on = (retry_on,)
        self.retry_on = _check_errors(retry_on, "retry_on")
        for label, v in (("initial", initial), ("maximum", maximum), ("factor", factor), ("jitter", jitter)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{label} must be a finite number >= 0, got {v!r}")
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor!r}")
        if jitter > 1:
            raise ValueError(f"jitter must be between 0 and 1, got {jitter!r}")
        if max_restarts is not None and (isinstance(max_restarts, bool) or not isinstance(max_restarts, int)
                                         or max_restarts < 0):
            raise ValueError(f"max_restarts must be an int >= 0 or None, got {max_restarts!r}")
        if within is not None and (isinstance(within, bool) or not isinstance(within, (int, float))
                                   or not within > 0):
            raise ValueError(f"within must be a number of seconds > 0 or None, got {within!r}")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        if sleep is not None and not callable(sleep):
            raise TypeError("sleep must be a callable sleep(signals, seconds)")
        self.runner = runner
        self.initial = float(initial)
        self.maximum = float(maximum)
        self.factor = float(factor)
        self.jitter = float(jitter)
        self.max_restarts = max_restarts
        self.within = None if within is None else float(within)
        self.clock = clock
        self.sleep = sleep if sleep is not None else _wait_for_signal
        self.rng = rng if rng is not None else random.Random()
        self.name = name

    def delays(self) -> Iterable[float]:
        """The base delays (before jitter) of the 1st, 2nd, ... restart."""
        d = min(self.initial, self.maximum)
        while True:
            yield d
            d = min(d * self.factor, self.maximum)

    def run(self, signals: Signals, ready: ReadyFn) -> None:
        retry_on = self.retry_on
        clock = self.clock
        sleep = self.sleep
        rng = self.rng
        jitter = self.jitter
        max_restarts = self.max_restarts
        within = self.within
        restarts: deque[float] = deque()  # times of the restarts in the window
        delays = iter(self.delays())

        def decide(runner: object, error: BaseException | None, signals: Signals) -> object:
            if not _matches(error, retry_on):
                return None
            if max_restarts is not None:
                now = clock()
                if within is not None:
                    while restarts and restarts[0] <= now - within:
                        restarts.popleft()
                if len(restarts) >= max_restarts:
                    return None
                restarts.append(now)
            base = next(delays)
            delay = base * (1.0 + rng.uniform(-jitter, jitter)) if jitter else base
            if sleep(signals, max(0.0, delay)) is not None:
                return None  # signaled while sleeping: stop with this error
            return runner

        _raise(_forever(signals, ready, self.runner, decide))

    def __repr__(self) -> str:
        return (f"Backoff({self.runner!r}, retry_on={self.retry_on!r}, initial={self.initial}, "
                f"maximum={self.maximum}, factor={self.factor}, jitter={self.jitter}, "
                f"max_restarts={self.max_restarts}, within={self.within})")
