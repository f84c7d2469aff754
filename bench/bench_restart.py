#!/usr/bin/env python
"""Benchmark: restarts, pyifrit against hand-written baselines.

One restart = a runner calls ``ready()``, exits with a restartable error, and
is started again. Workload: ``k`` runs (``k - 1`` restarts; the last run exits
cleanly), reported per run.

    python bench/bench_restart.py                      # defaults: --n 20000 --rounds 5
    python bench/bench_restart.py --n 5000 --rounds 3 --json restart.json

Implementations (all in one run, interleaved, order rotated every round):

- ``pyifrit``: ``ifrit.restart.on_error(flaky, Again)`` run by ``ifrit.background``;
- ``threading``: ``ThreadingImpl.restart`` (a new thread per run);
- ``asyncio``: ``AsyncioImpl.restart`` (a new task per run).

Target: pyifrit at most 0.2x the threading time per restart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

DESCRIPTION = "restart benchmark: a runner that fails k times under a restarter"
TARGETS = (c.Target(c.THREADING, 0.2),)


def pyifrit_restart(ifrit: ModuleType) -> Callable[[int], None]:
    from ifrit import restart

    class Again(Exception):
        pass

    def restarts(k: int) -> None:
        count = 0

        def flaky(signals: Any, ready: Callable[[], None]) -> None:
            nonlocal count
            ready()
            count += 1
            if count < k:
                raise Again()

        err = ifrit.background(restart.on_error(flaky, Again)).wait()
        if err is not None or count != k:
            raise SystemExit(f"pyifrit restart failed: {err!r}, {count} runs of {k}")

    restarts(10)  # check the workload once before timing it
    return restarts


def main(argv: list[str] | None = None) -> int:
    return c.per_op_main(
        argv,
        description=DESCRIPTION,
        workload="restart",
        make_pyifrit=pyifrit_restart,
        baseline="restart",
        targets=TARGETS,
    )


if __name__ == "__main__":
    sys.exit(main())
