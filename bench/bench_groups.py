#!/usr/bin/env python
"""Benchmark: Parallel and Ordered groups, pyifrit against hand-written baselines.

Each member's runner calls ``ready()`` and waits for one signal. One sample
starts a group of M members, waits until it is ready (``start``), signals it
and waits until it has exited (``stop``); both are reported per member.

    python bench/bench_groups.py                       # --sizes 1000,10000 --rounds 5
    python bench/bench_groups.py --sizes 1000 --rounds 3 --json groups.json
    python bench/bench_groups.py --pool-idle 0       # a new thread per member

By default the core's thread pool keeps its idle threads (for 30 s), so
after the warm-up pyifrit's members run on threads that already exist,
which is what a long-running program that restarts groups gets;
``--pool-idle 0`` makes every member start on a new thread that exits
after it, as in the threading baseline.

Implementations (one run, interleaved, order rotated every round):

- ``pyifrit``: ``grouper.Parallel`` / ``grouper.Ordered`` run with
  ``ifrit.background``;
- ``threading``: ``ThreadingImpl.parallel`` / ``.ordered``;
- ``asyncio``: ``AsyncioImpl.parallel`` / ``.ordered``.

Targets: pyifrit at most 0.25x the threading time per member at 1 000
members; pyifrit's per-member cost at 10 000 within 1.3x of that at 1 000.
"""

from __future__ import annotations

import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

DESCRIPTION = "group benchmark: Parallel and Ordered start/stop per member"
THREADING_TARGET = 0.25
SCALING_TARGET = 1.3
KINDS = ("parallel", "ordered")


def pyifrit_group(ifrit: ModuleType, kind: str) -> Callable[[int], tuple[float, float]]:
    """``fn(m) -> (start_seconds, stop_seconds)`` for a pyifrit group of m members."""
    from ifrit import grouper

    group_cls = {"parallel": grouper.Parallel, "ordered": grouper.Ordered}[kind]
    sigint = signal.SIGINT

    def sleeper(signals: Any, ready: Callable[[], None]) -> None:
        ready()
        signals.get()

    def run(m: int) -> tuple[float, float]:
        group = group_cls([grouper.Member(f"m{i}", sleeper) for i in range(m)])
        t0 = time.perf_counter()
        p = ifrit.background(group)
        if not p.wait_ready(600):
            raise SystemExit(f"pyifrit {kind} group exited during start: {p.wait(0)!r}")
        t1 = time.perf_counter()
        p.signal(sigint)
        err = p.wait(600)
        t2 = time.perf_counter()
        if err is not None:
            raise SystemExit(f"pyifrit {kind} group failed: {err!r}")
        return t1 - t0, t2 - t1

    run(10)  # check the workload once
    return run


def settle(threads_before: int, timeout: float = 30.0) -> None:
    """Wait (untimed) until the Python threads a sample started have ended.

    The threading baseline returns once its members have set their exit
    events; their threads then still tear down, each taking the GIL once.
    With 10 000 of them that overlapped the next implementation's sample
    (and charged it with the baseline's teardown); so every sample is
    followed by this wait, outside the timed part."""
    import threading

    deadline = time.monotonic() + timeout
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.005)


def measurement(fn: Callable[[int], tuple[float, float]], m: int) -> c.Measurement:
    def measure() -> c.Sample:
        import gc
        import threading

        gc.collect()
        before = threading.active_count()
        up, down = fn(m)
        settle(before)
        return {"start": up / m, "stop": down / m}

    return measure


def main(argv: list[str] | None = None) -> int:
    p = c.argument_parser(DESCRIPTION, default_n=0, default_rounds=5)
    p.add_argument("--sizes", default="1000,10000", help="group sizes (default 1000,10000)")
    p.add_argument("--kinds", default=",".join(KINDS), help="parallel,ordered")
    p.add_argument(
        "--pool-idle",
        type=int,
        metavar="N",
        help="keep up to N idle pool threads (ifrit._core.set_pool(max_idle=N)); "
        "default: the core's default (no limit, 30 s idle timeout); 0: every "
        "member starts on a new thread, as in the threading baseline",
    )
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    wanted = args.only or [c.PYIFRIT, c.THREADING, c.ASYNCIO]

    baselines = c.load_baselines(args.baselines)
    ifrit = c.import_ifrit() if c.PYIFRIT in wanted else None
    if c.PYIFRIT in wanted and ifrit is None:
        wanted.remove(c.PYIFRIT)
    if ifrit is not None and args.pool_idle is not None:
        from ifrit import _core

        _core.set_pool(max_idle=args.pool_idle, idle_timeout=3600.0)
    env = c.environment(ifrit)
    if args.pool_idle is not None:
        env["pool_max_idle"] = args.pool_idle

    summaries: dict[tuple[str, int], c.Summary] = {}
    for kind in kinds:
        impls: dict[str, Callable[[int], tuple[float, float]]] = {}
        if ifrit is not None:
            impls[c.PYIFRIT] = pyifrit_group(ifrit, kind)
        if c.THREADING in wanted:
            impls[c.THREADING] = getattr(baselines.ThreadingImpl(), kind)
        if c.ASYNCIO in wanted:
            impls[c.ASYNCIO] = getattr(baselines.AsyncioImpl(), kind)
        for m in sizes:
            print(f"{kind} m={m}", file=sys.stderr, flush=True)
            samples = c.run_rounds(
                {name: measurement(fn, m) for name, fn in impls.items()},
                args.rounds,
                # warm up at full size: pyifrit's pool then holds m threads, as in
                # a program that runs (or restarts) a group of m members
                warmup={name: (lambda fn=fn, m=m: fn(m)) for name, fn in impls.items()},
            )
            targets = (c.Target(c.THREADING, THREADING_TARGET),) if m == min(sizes) else ()
            summaries[(kind, m)] = c.summarize(
                f"{kind} group",
                samples,
                params={"members": m, "rounds": args.rounds},
                env=env,
                targets=targets,
            )

    for s in summaries.values():
        print(c.report(s))
        print()
    print(scaling_table(summaries, kinds, sizes))
    if args.json:
        import json

        doc = {f"{k}-{m}": s.samples for (k, m), s in summaries.items()}
        Path(args.json).write_text(json.dumps({"env": env, "samples": doc}, indent=2) + "\n")
    return 0


def scaling_table(
    summaries: dict[tuple[str, int], c.Summary], kinds: list[str], sizes: list[int]
) -> str:
    """Per-member cost at each size over that at the smallest size, per implementation."""
    if len(sizes) < 2:
        return ""
    small = min(sizes)
    rows = []
    for kind in kinds:
        base = summaries[(kind, small)]
        for m in sizes:
            if m == small:
                continue
            big = summaries[(kind, m)]
            for impl in big.per_op:
                for metric in ("start", "stop"):
                    a = statistics.median(big.samples[impl][metric])
                    b = statistics.median(base.samples[impl][metric])
                    ratio = a / b
                    goal = f"<= {SCALING_TARGET:g}x" if impl == c.PYIFRIT else "-"
                    met = ("yes" if ratio <= SCALING_TARGET else "NO") if impl == c.PYIFRIT else "-"
                    rows.append([f"{kind} {impl} ({metric})", f"{c.us(b):.2f}", f"{c.us(a):.2f}",
                                 f"{ratio:.3f}x", goal, met])
    return f"### scaling: per member at {max(sizes)} vs {small}\n\n" + c.markdown_table(
        ["workload", f"µs/member @{small}", f"µs/member @{max(sizes)}", "ratio", "goal", "met"],
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
