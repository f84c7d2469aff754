"""No leaks over many process cycles: RSS, fds, OS threads, references.

Runs in a child interpreter so the measurements see only ifrit. Cycle count:
IFRIT_LEAK_CYCLES (default 200 000); the baseline is taken after a warm-up of
a tenth of them.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from _support import describe, run_python

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self"),
]

CYCLES = int(os.environ.get("IFRIT_LEAK_CYCLES", "200000"))
RSS_TOLERANCE = 4 * 1024 * 1024  # bytes; a 32-byte leak per cycle would exceed it
BLOCKS_TOLERANCE = 2000  # pymalloc blocks; a leaked object per cycle would be 180 000

CHILD = r"""
import gc, json, os, signal, sys, time, weakref
import ifrit
from ifrit import _core

CYCLES = int(os.environ["IFRIT_LEAK_CYCLES"])
WARMUP = max(1, CYCLES // 10)
SIDE = max(1, CYCLES // 10)
PAGE = os.sysconf("SC_PAGE_SIZE")
report = {"cycles": CYCLES}


def threads_now():
    # a process exits a moment before its pool thread is idle again, and
    # trim only touches idle threads: wait until none is busy
    deadline = time.monotonic() + 10
    while _core.pool_stats()[0] != _core.pool_stats()[1] and time.monotonic() < deadline:
        time.sleep(0.001)  # polling a condition
    report.setdefault("trims", []).append(_core.pool_trim(10.0))
    # trimmed threads may still be finishing their exit: let the OS reap them
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/task")) > 1 and time.monotonic() < deadline:
        time.sleep(0.001)  # polling a condition
    return len(os.listdir("/proc/self/task"))


def snapshot():
    gc.collect()
    nthreads = threads_now()
    gc.collect()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * PAGE
    return {
        "rss": rss,
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": nthreads,
        "blocks": sys.getallocatedblocks(),
        "runner_refs": sys.getrefcount(runner),
        "sigterm_refs": sys.getrefcount(signal.SIGTERM),
    }


def runner(signals, ready):
    ready()
    signals.get(timeout=10)


def cycles(n):
    for i in range(n):
        if i % 500 == 0:  # now and then several at once, so the pool grows and shrinks
            batch = [ifrit.invoke(runner, timeout=10) for _ in range(8)]
            for q in batch:
                q.signal()
            if any(q.wait(timeout=10) is not None for q in batch):
                raise SystemExit("unexpected exit error")
            del batch, q
        p = ifrit.invoke(runner, timeout=10)
        p.signal()
        if p.wait(timeout=10) is not None:
            raise SystemExit("unexpected exit error")


report["start_threads"] = threads_now()
cycles(WARMUP)
base = snapshot()
t0 = time.monotonic()
cycles(CYCLES - WARMUP)
report["main_seconds"] = time.monotonic() - t0
after = snapshot()
report["base"], report["after"] = base, after


# --- exit errors and runner objects are released with their processes
class Boom(Exception):
    pass


class ObjRunner:
    def __init__(self, before_ready):
        self.before_ready = before_ready

    def run(self, signals, ready):
        if not self.before_ready:
            ready()
            signals.get(timeout=10)
        raise Boom()


def error_cycles(n, keep):
    refs = []
    for i in range(n):
        r = ObjRunner(before_ready=(i % 2 == 0))
        if r.before_ready:
            try:
                ifrit.invoke(r, timeout=10)
                raise SystemExit("no StartError")
            except ifrit.StartError as e:
                err = e.error
                proc = e.process
        else:
            proc = ifrit.invoke(r, timeout=10)
            proc.signal()
            err = proc.wait(timeout=10)
        if not isinstance(err, Boom):
            raise SystemExit(f"unexpected exit error {err!r}")
        if i >= n - keep:
            refs.append((weakref.ref(r), weakref.ref(err)))
        del r, err, proc
    return refs


error_cycles(SIDE // 2, 0)
gc.collect()
blocks0 = sys.getallocatedblocks()
refs = error_cycles(SIDE, 1000)
gc.collect()
report["live_runner_refs"] = sum(r() is not None for r, _ in refs)
report["live_error_refs"] = sum(e() is not None for _, e in refs)
del refs
gc.collect()
report["error_blocks_delta"] = sys.getallocatedblocks() - blocks0

# --- a shared exit error and a shared mailbox item keep a stable refcount
ERR = Boom("shared")


def shared_err(signals, ready):
    raise ERR


ERR.__traceback__ = None
gc.collect()
err_refs0 = sys.getrefcount(ERR)
for _ in range(SIDE):
    p = ifrit.background(shared_err)
    if p.wait(timeout=10) is not ERR:
        raise SystemExit("wrong exit error")
    p.signal()  # dropped
del p
ERR.__traceback__ = None
gc.collect()
report["shared_error_refs_delta"] = sys.getrefcount(ERR) - err_refs0

ITEM = object()
item_refs0 = sys.getrefcount(ITEM)
ev = ifrit.Event()
for _ in range(SIDE):
    mb = ifrit.Mailbox()
    mb.put(ITEM)
    mb.put(ITEM)
    mb.put(ITEM)
    ifrit.select(ev, mb, timeout=1)
    mb.get(timeout=1)
    mb.close()
    del mb  # dropped with one item still inside
gc.collect()
report["item_refs_delta"] = sys.getrefcount(ITEM) - item_refs0
report["final_threads"] = threads_now()
print("REPORT " + json.dumps(report), flush=True)
"""


def test_no_leaks_over_many_cycles():
    result = run_python(CHILD, timeout=110, env={"IFRIT_LEAK_CYCLES": str(CYCLES)})
    context = describe(result)
    assert result.returncode == 0, context
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("REPORT ")), None)
    assert line is not None, context
    report = json.loads(line[len("REPORT "):])
    base, after = report["base"], report["after"]
    summary = json.dumps(report, indent=1)
    assert all(report["trims"]), f"pool_trim did not finish\n{summary}"
    assert after["fds"] <= base["fds"], f"fd leak\n{summary}"
    assert after["threads"] <= base["threads"], f"thread leak\n{summary}"
    assert report["final_threads"] <= report["start_threads"], f"thread leak\n{summary}"
    assert after["rss"] - base["rss"] <= RSS_TOLERANCE, f"RSS grew\n{summary}"
    assert after["blocks"] - base["blocks"] <= BLOCKS_TOLERANCE, f"object leak\n{summary}"
    assert after["runner_refs"] == base["runner_refs"], f"runner reference leak\n{summary}"
    assert after["sigterm_refs"] - base["sigterm_refs"] <= 2, f"signal reference leak\n{summary}"
    assert report["error_blocks_delta"] <= BLOCKS_TOLERANCE, f"object leak on error exits\n{summary}"
    assert report["live_runner_refs"] == 0, f"runner objects kept alive\n{summary}"
    assert report["live_error_refs"] == 0, f"exit errors kept alive\n{summary}"
    assert report["shared_error_refs_delta"] == 0, f"exit error reference leak\n{summary}"
    assert report["item_refs_delta"] == 0, f"mailbox item reference leak\n{summary}"
