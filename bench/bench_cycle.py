#!/usr/bin/env python
"""Benchmark: the process *cycle*, pyifrit against hand-written baselines.

One cycle = invoke a runner that calls ``ready()`` and waits for one signal,
send it SIGINT, wait for it to exit. This is the cost of a short-lived
process and the floor under every group and restart.

    python bench/bench_cycle.py                      # defaults: --n 20000 --rounds 5
    python bench/bench_cycle.py --n 5000 --rounds 3 --json cycle.json
    python bench/bench_cycle.py --only threading --only asyncio   # no pyifrit needed

Implementations (all in one run, interleaved, order rotated every round):

- ``pyifrit``: ``ifrit.invoke`` / ``process.signal`` / ``process.wait``;
- ``threading``: ``ThreadingImpl.cycle`` (a thread + Events + SimpleQueue);
- ``asyncio``: ``AsyncioImpl.cycle`` (a task + asyncio.Event + asyncio.Queue).

Targets: pyifrit at most 0.15x the threading time and 0.6x the asyncio time.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

DESCRIPTION = "cycle benchmark: invoke, signal, wait (pyifrit vs threading vs asyncio)"
TARGETS = (
    c.Target(c.THREADING, 0.15),
    c.Target(c.ASYNCIO, 0.6),
)


def pyifrit_cycle(ifrit: ModuleType) -> Callable[[int], None]:
    """The cycle workload written against the public pyifrit API."""
    invoke = ifrit.invoke
    sigint = signal.SIGINT

    def sleeper(signals: Any, ready: Callable[[], None]) -> None:
        ready()
        signals.get()

    def cycle(n: int) -> None:
        for _ in range(n):
            p = invoke(sleeper)
            p.signal(sigint)
            p.wait()

    # Check the workload once before timing it: a clean exit, no error.
    p = invoke(sleeper)
    p.signal(sigint)
    if (err := p.wait(timeout=10)) is not None:
        raise SystemExit(f"pyifrit cycle failed: {err!r}")
    return cycle


def main(argv: list[str] | None = None) -> int:
    return c.per_op_main(
        argv,
        description=DESCRIPTION,
        workload="cycle",
        make_pyifrit=pyifrit_cycle,
        baseline="cycle",
        targets=TARGETS,
    )


if __name__ == "__main__":
    sys.exit(main())
