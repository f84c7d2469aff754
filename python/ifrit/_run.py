"""``ifrit.run``: the main-program entry."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable

from ifrit._core import Signals
from ifrit._process import ReadyFn, Runner, _resolve, background
from ifrit.sigmon import Sigmon

__all__ = ["run"]

logger = logging.getLogger("ifrit")


def run(
    runner: Runner | Callable[[Signals, ReadyFn], object],
    *,
    signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM),
    name: str | None = None,
) -> int:
    """Run ``runner`` as the main program: ``sys.exit(ifrit.run(app))``.

    The OS signals ``signals`` (exactly those) are caught through
    :class:`ifrit.sigmon.Sigmon` — installed before the runner starts, from
    any thread, restored on exit — and forwarded to the runner. Blocks until
    the runner exits; logs its exit error (logger ``"ifrit"``, level ERROR,
    with the traceback) and returns the exit code: 0 clean, 1 error.

    If a signal that is not in ``signals`` interrupts the wait (Ctrl-C when
    SIGINT is not listed raises ``KeyboardInterrupt`` in the main thread),
    the runner is sent SIGINT, waited for, and the exception propagates.
    """
    _, default_name = _resolve(runner)
    if name is None:
        name = default_name
    elif not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    monitor = Sigmon._exactly(runner, signals)
    monitor.name = name
    process = background(monitor, name=name)
    try:
        error = process.wait()
    except BaseException:
        process.signal(signal.SIGINT)
        process.wait()
        raise
    if error is None:
        return 0
    logger.error("%s exited with error: %s", name, str(error) or repr(error),
                 exc_info=(type(error), error, error.__traceback__))
    return 1
