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
    args = c.argument_parser(DESCRIPTION, default_n=20_000).parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        raise SystemExit("--n and --rounds must be at least 1")
    wanted = args.only or [c.PYIFRIT, c.THREADING, c.ASYNCIO]

    baselines = c.load_baselines(args.baselines)
    ifrit = c.import_ifrit() if c.PYIFRIT in wanted else None
    if c.PYIFRIT in wanted and ifrit is None:
        if args.only:
            raise SystemExit("pyifrit was asked for with --only but cannot be imported")
        wanted.remove(c.PYIFRIT)

    cycles: dict[str, Callable[[int], None]] = {}
    if ifrit is not None:
        cycles[c.PYIFRIT] = pyifrit_cycle(ifrit)
    if c.THREADING in wanted:
        cycles[c.THREADING] = baselines.ThreadingImpl().cycle
    if c.ASYNCIO in wanted:
        cycles[c.ASYNCIO] = baselines.AsyncioImpl().cycle

    n = args.n

    def measure(cycle: Callable[[int], None]) -> c.Measurement:
        return lambda: {"cycle": c.timed(lambda: cycle(n), n)}

    warm_n = max(1, min(n // 10, 2_000))
    samples = c.run_rounds(
        {name: measure(fn) for name, fn in cycles.items()},
        args.rounds,
        warmup={name: (lambda fn=fn: fn(warm_n)) for name, fn in cycles.items()},
    )
    summary = c.summarize(
        "cycle",
        samples,
        params={"n": n, "rounds": args.rounds},
        env=c.environment(ifrit),
        targets=TARGETS,
    )
    return c.finish(summary, args.json)


if __name__ == "__main__":
    sys.exit(main())
