"""Restarts, OS signals (sigmon, ifrit.run) and signal forwarding (proxy)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

import ifrit
from ifrit import proxy, restart, sigmon


def flaky(signals: ifrit.Signals, ready: Callable[[], None]) -> None:
    ready()
    raise ConnectionError("lost")


def load(runner: Any, error: BaseException | None) -> Any:
    return runner if isinstance(error, ConnectionError) else None


r1 = restart.Restarter(flaky, load)
r2 = restart.on_error(flaky, ConnectionError, TimeoutError)
r3 = restart.Backoff(
    flaky, retry_on=(ConnectionError,), initial=0.01, maximum=1.0, factor=2.0,
    jitter=0.1, max_restarts=5, within=60.0,
)
for r in (r1, r2, r3):
    ifrit.invoke(r).wait()

app = sigmon.Sigmon(r3, signal.SIGHUP)
also = sigmon.new(flaky, signal.SIGUSR1)
source: ifrit.Mailbox[int] = ifrit.Mailbox()
forwarded = proxy.Proxy(source.signals(), flaky)
forwarded2 = proxy.new(source.signals(), flaky)

if __name__ == "__main__":
    sys.exit(ifrit.run(app))
