"""Runners and processes: the Python side of ``ifrit.background``/``invoke``.

The mechanism (state word, signal mailbox, pool thread, blocking waits) is
``ifrit._core.Proc``; this module adds what users touch: the Runner protocol,
runner resolution and naming, ``repr``, ``await process`` and ``invoke``'s
start contract.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
from collections.abc import Callable, Generator
from typing import Any, Protocol, runtime_checkable

from ifrit import _core
from ifrit._core import Signals

__all__ = ["Process", "RunFunc", "Runner", "StartError", "StartTimeout", "background", "invoke"]

ReadyFn = Callable[[], None]


@runtime_checkable
class Runner(Protocol):
    """A single-purpose unit of work.

    A runner's ``run(signals, ready)``:

    - sets itself up in finite time, then calls ``ready()`` once it is active
      (later calls, and calls after exit, do nothing; any thread may call it);
    - performs its unit of work, which may be infinite;
    - on a signal from ``signals`` (an :class:`ifrit.Signals`), shuts down in
      finite time;
    - returns normally for a clean exit (a returned value is ignored), or
      raises: the exception (any ``BaseException``) is the process's exit
      error.

    Any callable ``fn(signals, ready)`` is a runner too (see :class:`RunFunc`).
    """

    def run(self, signals: Signals, ready: ReadyFn) -> object: ...


class RunFunc:
    """Makes a function ``fn(signals, ready)`` a :class:`Runner` explicitly.

    Plain callables are accepted everywhere a runner is; ``RunFunc`` exists
    for explicitness and typing (Go's ``ifrit.RunFunc``).
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[Signals, ReadyFn], object], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"RunFunc needs a callable fn(signals, ready), not {type(fn).__name__}")
        self.fn = fn
        self.name = name if name is not None else _callable_name(fn)

    def run(self, signals: Signals, ready: ReadyFn) -> object:
        return self.fn(signals, ready)

    def __repr__(self) -> str:
        return f"RunFunc({self.fn!r})"


def _callable_name(fn: object) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def _resolve(runner: object) -> tuple[Callable[[Signals, ReadyFn], object], str]:
    """The callable to run and the default name of ``runner``."""
    run = getattr(runner, "run", None)
    if callable(run) and not isinstance(runner, type):
        fn = run
    elif callable(runner):
        fn = runner
    else:
        raise TypeError(
            "a runner must be a callable fn(signals, ready) or have a run(signals, ready) "
            f"method; got {type(runner).__name__}: {runner!r}"
        )
    name = getattr(runner, "name", None)
    if not isinstance(name, str):
        name = _callable_name(runner) if fn is runner else type(runner).__name__
    return fn, name


class Process(_core.Proc):
    """A running (or finished) runner. Only ``background``/``invoke`` make one.

    Safe to use from any thread, before and after exit: ``signal(sig)``
    queues a signal (FIFO, never blocks, dropped after exit); ``wait()``
    returns the exit error (None if clean), the same object for every caller;
    ``wait_ready()`` returns True once ready or False if it exited without
    being ready; ``is_ready``/``is_exited`` are non-blocking; ``ready_event``
    and ``exit_event`` are waitables for :func:`ifrit.select`; ``await
    process`` waits in asyncio without blocking the event loop.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if self.is_exited:
            err = self._exit_error
            state = "exited" if err is None else f"exited with {err!r}"
        elif self.is_ready:
            state = "ready"
        else:
            state = "starting"
        return f"<ifrit.Process {self.name!r} {state}>"

    def __await__(self) -> Generator[Any, None, BaseException | None]:
        if not self.is_exited:
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()

            def resolve() -> None:
                if not fut.done():
                    fut.set_result(None)

            def on_exit() -> None:  # runs on the exiting thread
                try:
                    loop.call_soon_threadsafe(resolve)
                except RuntimeError:  # the loop is closed: nobody is waiting
                    pass

            self._add_exit_callback(on_exit)
            yield from fut.__await__()
        return self._exit_error


class StartError(Exception):
    """The process exited with an error before it was ready (``invoke``).

    ``.process`` is the process, ``.error`` its exit error (also
    ``__cause__``).
    """

    def __init__(self, process: Process, error: BaseException | None, message: str | None = None):
        if message is None:
            message = f"process {process.name!r} exited before it was ready: {error!r}"
        super().__init__(message)
        self.process = process
        self.error = error


class StartTimeout(StartError, TimeoutError):
    """The process was not ready in time (``invoke``); it was sent SIGTERM.

    ``.process`` lets the caller wait for it; ``.error`` is None.
    """

    def __init__(self, process: Process, timeout: float):
        super().__init__(
            process,
            None,
            f"process {process.name!r} was not ready within {timeout:g} s; sent it SIGTERM",
        )
        self.timeout = timeout


def background(runner: Runner | Callable[[Signals, ReadyFn], object], *, name: str | None = None) -> Process:
    """Start ``runner`` on its own thread and return its :class:`Process` at once.

    The runner runs in a copy of the caller's ``contextvars`` context taken
    now. ``name`` defaults to the runner's ``name`` attribute, else its
    class or function name.
    """
    fn, default_name = _resolve(runner)
    if name is None:
        name = default_name
    elif not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    process = Process(name, _core._MAKE)
    process._start(fn, contextvars.copy_context())
    return process


def _check_timeout(timeout: float | None) -> float | None:
    """Validate a timeout given to a Python-level call (the core checks its
    own the same way); return it in seconds as a float, or None."""
    if timeout is None:
        return None
    if isinstance(timeout, (str, bytes, bool)) or not hasattr(type(timeout), "__float__"):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    t = float(timeout)
    if not t >= 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
    return t


def invoke(
    runner: Runner | Callable[[Signals, ReadyFn], object],
    *,
    name: str | None = None,
    timeout: float | None = None,
) -> Process:
    """Start ``runner`` and return once its process is ready or has exited.

    - exited with an error before ready: raise :class:`StartError`;
    - exited cleanly before ready: return the process;
    - ``timeout`` seconds passed first: send it SIGTERM and raise
      :class:`StartTimeout` (``.process`` can be waited for).
    """
    limit = _check_timeout(timeout)
    process = background(runner, name=name)
    try:
        ready = process.wait_ready(limit)
    except TimeoutError:
        process.signal(signal.SIGTERM)
        raise StartTimeout(process, limit or 0.0) from None
    except BaseException:
        # Interrupted (Ctrl-C) while waiting: do not leave it running unseen.
        process.signal(signal.SIGTERM)
        raise
    if not ready:
        error = process._exit_error
        if error is not None:
            raise StartError(process, error) from error
    return process
