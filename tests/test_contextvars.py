"""SPEC §1: the runner runs in a copy of the caller's contextvars context taken at start."""

from __future__ import annotations

import contextvars
import threading

import ifrit
from _support import DEADLINE

var: contextvars.ContextVar[str] = contextvars.ContextVar("ifrit_test_var", default="unset")


def test_runner_sees_value_at_background_time(fresh_context):
    def body():
        go = threading.Event()
        seen = []

        def runner(signals, ready):
            assert go.wait(DEADLINE)
            seen.append(var.get())
            var.set("inside-runner")
            seen.append(var.get())
            ready()

        var.set("at-background")
        p = ifrit.background(runner)
        var.set("after-background")
        go.set()
        assert p.wait(timeout=DEADLINE) is None
        assert seen == ["at-background", "inside-runner"]
        assert var.get() == "after-background"

        # a later process sees the caller's current value, not the runner's change
        later = []
        q = ifrit.background(lambda s, r: later.append(var.get()))
        assert q.wait(timeout=DEADLINE) is None
        assert later == ["after-background"]

    fresh_context.run(body)
    assert var.get() == "unset"


def test_invoke_copies_context(fresh_context):
    def body():
        seen = []

        def runner(signals, ready):
            seen.append(var.get())
            var.set("changed-by-runner")
            ready()
            signals.get(timeout=DEADLINE)
            seen.append(var.get())

        var.set("at-invoke")
        p = ifrit.invoke(runner, timeout=DEADLINE)
        assert var.get() == "at-invoke"
        var.set("after-invoke")
        p.signal()
        assert p.wait(timeout=DEADLINE) is None
        assert seen == ["at-invoke", "changed-by-runner"]
        assert var.get() == "after-invoke"

    fresh_context.run(body)


def test_each_process_gets_its_own_copy(fresh_context):
    def body():
        first_set = threading.Event()
        both_inside = threading.Barrier(2, timeout=DEADLINE)
        seen = {}

        def writer(signals, ready):
            both_inside.wait()
            var.set("writer-value")
            first_set.set()
            ready()
            signals.get(timeout=DEADLINE)

        def reader(signals, ready):
            both_inside.wait()
            assert first_set.wait(DEADLINE)
            seen["reader"] = var.get()
            ready()

        var.set("shared-start")
        pw = ifrit.background(writer)
        pr = ifrit.background(reader)
        assert pr.wait(timeout=DEADLINE) is None  # also: running one Context twice would fail
        pw.signal()
        assert pw.wait(timeout=DEADLINE) is None
        assert seen == {"reader": "shared-start"}

    fresh_context.run(body)


def test_context_is_copied_in_the_calling_thread():
    seen = []
    result = []

    def in_thread():
        var.set("thread-value")
        p = ifrit.background(lambda s, r: seen.append(var.get()))
        result.append(p.wait(timeout=DEADLINE))

    t = threading.Thread(target=in_thread)
    t.start()
    t.join(DEADLINE + 5)
    assert result == [None]
    assert seen == ["thread-value"]
