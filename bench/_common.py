"""Shared helpers for the pyifrit benchmarks in ``bench/``.

Every benchmark script compares pyifrit with the hand-written baselines of
``shared/bench/baselines.py`` (``ThreadingImpl``, ``AsyncioImpl``) *in the
same run*: the machines are shared and noisy, so only ratios measured side by
side mean something. The recipe, implemented here once:

- a **measurement** is a zero-argument callable that runs one batch of a
  workload and returns ``{metric: seconds per operation}`` (``cycle`` has one
  metric; a group workload has ``start`` and ``stop``);
- :func:`run_rounds` runs every implementation's measurement once per round,
  rotating the order each round so no implementation always goes first (or
  right after the garbage-heavy one);
- :func:`summarize` reduces the samples to median/min/max per implementation
  and metric, plus ratios of pyifrit over each baseline;
- :func:`print_report` prints Markdown tables, :func:`write_json` saves the
  raw samples.

A new workload script (groups, restarts, ...) only defines its measurements
and its targets; ``bench_cycle.py`` is the template:
:func:`argument_parser` -> :func:`run_rounds` -> :func:`summarize` ->
:func:`finish`.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASELINES_DIR = REPO_ROOT.parent / "shared" / "bench"

PYIFRIT = "pyifrit"
THREADING = "threading"
ASYNCIO = "asyncio"

#: seconds per operation, by metric name
Sample = dict[str, float]
Measurement = Callable[[], Sample]


# --------------------------------------------------------------------------
# Loading the implementations
# --------------------------------------------------------------------------


def load_baselines(directory: str | os.PathLike[str] | None = None) -> ModuleType:
    """Import ``baselines.py`` from *directory* (default ``../shared/bench``).

    The module is loaded by path under the name ``pyifrit_bench_baselines``
    so it never shadows anything importable.
    """
    base = Path(directory) if directory is not None else DEFAULT_BASELINES_DIR
    path = base / "baselines.py"
    if not path.is_file():
        raise SystemExit(f"baselines not found: {path} (use --baselines DIR)")
    spec = importlib.util.spec_from_file_location("pyifrit_bench_baselines", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def import_ifrit() -> ModuleType | None:
    """Import the installed ``ifrit`` package, or return None if it is missing."""
    try:
        import ifrit
    except ImportError as exc:
        print(
            f"note: pyifrit is not importable ({exc}); running the baselines only",
            file=sys.stderr,
        )
        return None
    return ifrit


def environment(ifrit: ModuleType | None) -> dict[str, Any]:
    """What a reader of the numbers needs to know about this run."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
    }
    if ifrit is not None:
        env["pyifrit"] = getattr(ifrit, "__version__", "?")
        try:
            from ifrit import _core

            env["park_backend"] = _core.park_backend()
            env["spin_s"] = _core.get_spin()
        except (ImportError, AttributeError):
            pass
    return env


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def timed(fn: Callable[[], object], ops: int) -> float:
    """Run *fn* once and return its wall-clock time per operation, in seconds."""
    gc.collect()
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / 1e9 / ops


def run_rounds(
    measurements: Mapping[str, Measurement],
    rounds: int,
    *,
    warmup: Mapping[str, Callable[[], object]] | None = None,
    progress: bool = True,
) -> dict[str, dict[str, list[float]]]:
    """Run each measurement once per round, rotating the order every round.

    Returns ``samples[impl][metric] -> [seconds per op, one per round]``.
    *warmup* callables (if any) run once each before the first round.
    """
    names = list(measurements)
    for name, fn in (warmup or {}).items():
        if progress:
            print(f"  warm-up {name}", file=sys.stderr, flush=True)
        fn()
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for r in range(rounds):
        k = r % len(names)
        order = names[k:] + names[:k]
        for name in order:
            sample = measurements[name]()
            for metric, value in sample.items():
                samples[name].setdefault(metric, []).append(value)
        if progress:
            line = "  ".join(
                f"{name}={_fmt_metrics({m: v[-1] for m, v in samples[name].items()})}"
                for name in names
            )
            print(f"  round {r + 1}/{rounds}: {line}", file=sys.stderr, flush=True)
    return samples


def _fmt_metrics(sample: Mapping[str, float]) -> str:
    return ",".join(f"{us(v):.2f}us" for v in sample.values())


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def us(seconds: float) -> float:
    return seconds * 1e6


@dataclass(frozen=True)
class Spread:
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True)
class Target:
    """``pyifrit / baseline`` on *metric* must be at most *max_ratio*."""

    baseline: str
    max_ratio: float
    metric: str | None = None  # None: every metric of the workload


@dataclass(frozen=True)
class Verdict:
    """One target checked against one metric of a run."""

    target: Target
    metric: str
    #: the pyifrit time per op that meets the target: max_ratio x median(baseline)
    budget: float
    #: median(pyifrit) / median(baseline); None when pyifrit did not run
    ratio: float | None

    @property
    def met(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= self.target.max_ratio


@dataclass
class Summary:
    workload: str
    params: dict[str, Any]
    env: dict[str, Any]
    samples: dict[str, dict[str, list[float]]]
    per_op: dict[str, dict[str, Spread]] = field(default_factory=dict)
    #: ratios[baseline][metric]: median(pyifrit) / median(baseline) as
    #: ``median``; min/max are the per-round ratios (same round, side by side)
    ratios: dict[str, dict[str, Spread]] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def all_met(self) -> bool:
        return all(v.met for v in self.verdicts)


def summarize(
    workload: str,
    samples: dict[str, dict[str, list[float]]],
    *,
    params: dict[str, Any],
    env: dict[str, Any],
    targets: Sequence[Target] = (),
) -> Summary:
    """Medians, spreads, pyifrit/baseline ratios and target verdicts."""
    s = Summary(workload, params, env, samples)
    for name, metrics in samples.items():
        s.per_op[name] = {m: Spread.of(v) for m, v in metrics.items()}
    ours = samples.get(PYIFRIT)
    for base, metrics in samples.items():
        if base == PYIFRIT or ours is None:
            continue
        s.ratios[base] = {}
        for m, theirs in metrics.items():
            if m not in ours:
                continue
            per_round = [a / b for a, b in zip(ours[m], theirs, strict=True)]
            s.ratios[base][m] = Spread(
                statistics.median(ours[m]) / statistics.median(theirs),
                min(per_round),
                max(per_round),
            )
    for t in targets:
        for m, sp in s.per_op.get(t.baseline, {}).items():
            if t.metric is None or t.metric == m:
                r = s.ratios.get(t.baseline, {}).get(m)
                ratio = None if r is None else r.median
                s.verdicts.append(Verdict(t, m, t.max_ratio * sp.median, ratio))
    return s


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; numeric-looking columns are right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def numeric(i: int) -> bool:
        return bool(cells) and all(_looks_numeric(r[i]) for r in cells)

    aligns = [numeric(i) for i in range(len(headers))]
    head = (
        "| "
        + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        + " |"
    )
    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if right else ("-" * (w + 2))
            for w, right in zip(widths, aligns, strict=True)
        )
        + "|"
    )
    body = [
        "| "
        + " | ".join(
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(row, widths, aligns, strict=True)
        )
        + " |"
        for row in cells
    ]
    return "\n".join([head, sep, *body])


def _looks_numeric(text: str) -> bool:
    try:
        float(text.rstrip("x%").replace(",", ""))
    except ValueError:
        return False
    return True


def report(summary: Summary) -> str:
    """The Markdown report: per-op times, ratios, targets."""
    s = summary
    multi = any(len(m) > 1 for m in s.per_op.values())
    out = [
        f"### {s.workload}: " + ", ".join(f"{k}={v}" for k, v in s.params.items()),
        "",
    ]
    rows = []
    for name, metrics in s.per_op.items():
        for m, sp in metrics.items():
            label = f"{name} ({m})" if multi else name
            rows.append(
                [
                    label,
                    f"{us(sp.median):.2f}",
                    f"{us(sp.min):.2f}",
                    f"{us(sp.max):.2f}",
                ]
            )
    out.append(
        markdown_table(
            ["implementation", "median µs/op", "min µs/op", "max µs/op"], rows
        )
    )
    if s.ratios:
        out.append("")
        rows = []
        for base, metrics in s.ratios.items():
            for m, r in metrics.items():
                label = f"{PYIFRIT} / {base}" + (f" ({m})" if multi else "")
                rows.append([label, f"{r.median:.3f}", f"{r.min:.3f}", f"{r.max:.3f}"])
        out.append(
            markdown_table(
                ["ratio", "median", "min (per round)", "max (per round)"], rows
            )
        )
    if s.verdicts:
        out.append("")
        rows = [
            [
                f"{PYIFRIT} / {v.target.baseline}"
                + (f" ({v.metric})" if multi else ""),
                f"<= {v.target.max_ratio:g}x",
                f"{us(v.budget):.2f}",
                "-" if v.ratio is None else f"{v.ratio:.3f}x",
                {True: "yes", False: "NO", None: "-"}[v.met],
            ]
            for v in s.verdicts
        ]
        headers = ["target", "goal", "budget µs/op", "measured", "met"]
        out.append(markdown_table(headers, rows))
        out.append("")
        if PYIFRIT not in s.samples:
            out.append("pyifrit did not run: budgets only")
        else:
            out.append("all targets met" if s.all_met else "some targets NOT met")
    env = ", ".join(f"{k}={v}" for k, v in s.env.items())
    out += ["", f"<sub>{env}</sub>"]
    return "\n".join(out)


def write_json(summary: Summary, path: str | os.PathLike[str]) -> None:
    s = summary
    doc = {
        "workload": s.workload,
        "params": s.params,
        "env": s.env,
        "unit": "seconds per operation",
        "samples": s.samples,
        "per_op": {
            n: {m: vars(sp) for m, sp in ms.items()} for n, ms in s.per_op.items()
        },
        "ratios": {
            b: {m: vars(r) for m, r in ms.items()} for b, ms in s.ratios.items()
        },
        "targets": [
            {
                "baseline": v.target.baseline,
                "metric": v.metric,
                "max_ratio": v.target.max_ratio,
                "budget": v.budget,
                "measured": v.ratio,
                "met": v.met,
            }
            for v in s.verdicts
        ],
    }
    Path(path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def argument_parser(
    description: str, *, default_n: int, default_rounds: int = 5
) -> argparse.ArgumentParser:
    """The flags every benchmark shares: --n, --rounds, --json, --baselines."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--n",
        type=int,
        default=default_n,
        help=f"operations per implementation per round (default {default_n})",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=default_rounds,
        help=f"interleaved rounds (default {default_rounds})",
    )
    p.add_argument(
        "--json", metavar="FILE", help="also write raw samples and results as JSON"
    )
    p.add_argument(
        "--baselines",
        metavar="DIR",
        help=f"directory of baselines.py (default {DEFAULT_BASELINES_DIR})",
    )
    p.add_argument(
        "--only",
        metavar="IMPL",
        action="append",
        choices=[PYIFRIT, THREADING, ASYNCIO],
        help="run only this implementation (repeatable)",
    )
    return p


def finish(summary: Summary, json_path: str | None) -> int:
    """Print the report and write the JSON file if asked; targets do not fail."""
    print(report(summary))
    if json_path:
        write_json(summary, json_path)
        print(f"\nwrote {json_path}", file=sys.stderr)
    return 0


def per_op_main(
    argv: list[str] | None,
    *,
    description: str,
    workload: str,
    make_pyifrit: Callable[[ModuleType], Callable[[int], None]],
    baseline: str,
    targets: Sequence[Target],
    default_n: int = 20_000,
) -> int:
    """``main()`` of a benchmark that times one per-operation workload.

    ``make_pyifrit(ifrit)`` returns pyifrit's ``fn(n)``; the baselines'
    method named ``baseline`` (``cycle``, ``restart``) is the same workload
    for ThreadingImpl and AsyncioImpl. All run interleaved in one process.
    """
    args = argument_parser(description, default_n=default_n).parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        raise SystemExit("--n and --rounds must be at least 1")
    wanted = args.only or [PYIFRIT, THREADING, ASYNCIO]

    baselines = load_baselines(args.baselines)
    ifrit = import_ifrit() if PYIFRIT in wanted else None
    if PYIFRIT in wanted and ifrit is None:
        if args.only:
            raise SystemExit("pyifrit was asked for with --only but cannot be imported")
        wanted.remove(PYIFRIT)

    impls: dict[str, Callable[[int], None]] = {}
    if ifrit is not None:
        impls[PYIFRIT] = make_pyifrit(ifrit)
    if THREADING in wanted:
        impls[THREADING] = getattr(baselines.ThreadingImpl(), baseline)
    if ASYNCIO in wanted:
        impls[ASYNCIO] = getattr(baselines.AsyncioImpl(), baseline)

    n = args.n

    def measure(fn: Callable[[int], None]) -> Measurement:
        return lambda: {workload: timed(lambda: fn(n), n)}

    warm_n = max(1, min(n // 10, 2_000))
    samples = run_rounds(
        {name: measure(fn) for name, fn in impls.items()},
        args.rounds,
        warmup={name: (lambda fn=fn: fn(warm_n)) for name, fn in impls.items()},
    )
    summary = summarize(
        workload,
        samples,
        params={"n": n, "rounds": args.rounds},
        env=environment(ifrit),
        targets=targets,
    )
    return finish(summary, args.json)
