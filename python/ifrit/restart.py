"""Restart strategies (Go's ``ifrit/restart``).

- :class:`Restarter` runs a runner and, each time it exits, asks
  ``load(runner, error)`` for the next one (``None`` ends it);
- :func:`on_error` restarts only on matching exit errors;
- :class:`Backoff` restarts on matching errors with exponential backoff and
  gives up after too many restarts inside a sliding window (Erlang's
  intensity/period).

Rules shared by all of them (with the fixes to Go's ``Restarter``):

- ready the first time *any* of the runners it started is ready (Go only
  watched the first one);
- signals are forwarded to the current runner; once signaled it never
  restarts again. A signal and an exit arriving together: the signal counts
  first (no restart);
- a signal during a backoff sleep ends the sleep at once, and the restarter
  exits with the last runner's exit error;
- it exits with the last runner's exit error (raises it; returns if clean);
- the runners run one after the other on the restarter's own thread, each in
  a fresh copy of the restarter's ``contextvars`` context, and get the
  restarter's own ``signals`` (so "forwarding" is exact and costs nothing)
  and ``ready``; a restart costs about a microsecond;
- no state is kept between runs: the same object can run again, or twice at
  once (Go's ``Restarter`` overwrote its own ``Runner`` field).
"""

from ifrit._restart import Backoff, Restarter, on_error

__all__ = ["Backoff", "Restarter", "on_error"]
