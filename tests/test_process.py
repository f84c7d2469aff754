"""SPEC §1: runners, background, Process (names, readiness, exit errors, wait, repr, await)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

import pytest

import ifrit
from _support import DEADLINE, never_ready, outcome, until_signal

# ------------------------------------------------------------------ runner forms


def test_callable_runner_gets_signals_and_ready(track):
    seen = {}

    def runner(signals, ready):
        seen["signals"] = signals
        seen["ready_callable"] = callable(ready)
        seen["thread"] = threading.get_ident()
        ready()
        signals.get(timeout=DEADLINE)

    p = track(ifrit.background(runner))
    assert isinstance(p, ifrit.Process)
    assert p.wait_ready(timeout=DEADLINE) is True
    assert isinstance(seen["signals"], ifrit.Signals)
    assert seen["ready_callable"] is True
    assert seen["thread"] != threading.get_ident()
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_object_runner_run_method_is_called(track):
    class Server:
        def __init__(self):
            self.calls = []

        def run(self, signals, ready):
            self.calls.append(threading.get_ident())
            ready()
            signals.get(timeout=DEADLINE)

    server = Server()
    p = track(ifrit.background(server))
    assert p.wait_ready(timeout=DEADLINE)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    assert len(server.calls) == 1 and server.calls[0] != threading.get_ident()


def test_run_method_preferred_over_call(track):
    class Both:
        def __init__(self):
            self.used = []

        def __call__(self, signals, ready):
            self.used.append("__call__")

        def run(self, signals, ready):
            self.used.append("run")

    both = Both()
    p = track(ifrit.background(both))
    assert p.wait(timeout=DEADLINE) is None
    assert both.used == ["run"]


def test_runfunc_adapter(track):
    calls = []

    def fn(signals, ready):
        calls.append((signals, ready))
        ready()

    rf = ifrit.RunFunc(fn)
    p = track(ifrit.background(rf))
    assert p.wait(timeout=DEADLINE) is None
    assert p.wait_ready(timeout=DEADLINE) is True
    assert len(calls) == 1
    # the adapter's run() calls the function with the same arguments (Go's RunFunc.Run)
    view = ifrit.Mailbox().signals()
    marker = []

    def my_ready():
        marker.append(1)

    rf.run(view, my_ready)
    assert len(calls) == 2
    assert calls[1][0] is view
    assert marker == [1]


def test_same_runner_object_can_run_twice_at_once(track):
    both_started = threading.Barrier(2, timeout=DEADLINE)

    def runner(signals, ready):
        both_started.wait()
        ready()
        signals.get(timeout=DEADLINE)

    p1 = track(ifrit.background(runner))
    p2 = track(ifrit.background(runner))
    assert p1.wait_ready(timeout=DEADLINE) and p2.wait_ready(timeout=DEADLINE)
    p1.signal()
    p2.signal()
    assert p1.wait(timeout=DEADLINE) is None and p2.wait(timeout=DEADLINE) is None


# ------------------------------------------------------------------ names


def test_name_explicit_wins(track):
    class Named:
        name = "attr-name"

        def run(self, signals, ready):
            pass

    p = track(ifrit.background(Named(), name="explicit"))
    assert p.name == "explicit"
    p.wait(timeout=DEADLINE)
    p2 = track(ifrit.invoke(Named(), name="explicit2", timeout=DEADLINE))
    assert p2.name == "explicit2"


def test_name_from_name_attribute(track):
    class Named:
        def __init__(self, name):
            self.name = name

        def run(self, signals, ready):
            pass

    p = track(ifrit.background(Named("from-attribute")))
    assert p.name == "from-attribute"
    p.wait(timeout=DEADLINE)


def test_name_from_class_name(track):
    class MyWorker:
        def run(self, signals, ready):
            pass

    p = track(ifrit.background(MyWorker()))
    assert p.name == "MyWorker"
    assert isinstance(p.name, str)


def test_name_from_callable_class_name(track):
    class CallableWorker:
        def __call__(self, signals, ready):
            pass

    p = track(ifrit.background(CallableWorker()))
    assert p.name == "CallableWorker"


def test_name_from_function_name(track):
    def my_function_runner(signals, ready):
        pass

    p = track(ifrit.background(my_function_runner))
    assert p.name == "my_function_runner"
    p = track(ifrit.background(lambda s, r: None))
    assert p.name == "<lambda>"


# ------------------------------------------------------------------ ready


def test_ready_is_idempotent(track):
    calls = []

    def runner(signals, ready):
        for _ in range(5):
            calls.append(ready())
        signals.get(timeout=DEADLINE)

    p = track(ifrit.background(runner))
    assert p.wait_ready(timeout=DEADLINE) is True
    assert p.is_ready and not p.is_exited
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    assert len(calls) == 5


def test_ready_from_another_thread(track):
    helper_thread = []

    def runner(signals, ready):
        t = threading.Thread(target=lambda: (helper_thread.append(threading.get_ident()), ready()))
        t.start()
        t.join(DEADLINE)
        signals.get(timeout=DEADLINE)

    p = track(ifrit.background(runner))
    assert p.wait_ready(timeout=DEADLINE) is True
    assert helper_thread
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_ready_from_many_threads_at_once(track):
    errors = []

    def runner(signals, ready):
        barrier = threading.Barrier(20, timeout=DEADLINE)

        def go():
            barrier.wait()
            try:
                ready()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        ts = [threading.Thread(target=go) for _ in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(DEADLINE)
        signals.get(timeout=DEADLINE)

    p = track(ifrit.background(runner))
    assert p.wait_ready(timeout=DEADLINE)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    assert errors == []


def test_ready_after_exit_does_nothing(track):
    box = []

    def runner(signals, ready):
        box.append(ready)

    p = track(ifrit.background(runner))
    assert p.wait(timeout=DEADLINE) is None
    assert p.is_exited and not p.is_ready
    kind, value = outcome(box[0])
    assert kind == "ok", f"ready() after exit raised {value!r}"
    assert not p.is_ready
    assert p.wait_ready(timeout=DEADLINE) is False
    assert p.wait(timeout=DEADLINE) is None


def test_ready_called_from_thread_after_exit(track):
    box = []

    def runner(signals, ready):
        box.append(ready)
        raise ValueError("early")

    p = track(ifrit.background(runner))
    err = p.wait(timeout=DEADLINE)
    t = threading.Thread(target=box[0])
    t.start()
    t.join(DEADLINE)
    assert not p.is_ready
    assert p.wait_ready(timeout=DEADLINE) is False
    assert p.wait(timeout=DEADLINE) is err


# ------------------------------------------------------------------ exit


def test_returned_value_is_ignored(track):
    def runner(signals, ready):
        ready()
        return 42

    p = track(ifrit.background(runner))
    assert p.wait(timeout=DEADLINE) is None


class CustomBase(BaseException):
    pass


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: ValueError("boom"),
        lambda: KeyboardInterrupt(),
        lambda: SystemExit(3),
        lambda: GeneratorExit(),
        lambda: CustomBase("custom"),
        lambda: TimeoutError("a timeout inside the runner"),
    ],
    ids=["Exception", "KeyboardInterrupt", "SystemExit", "GeneratorExit", "BaseException", "TimeoutError"],
)
@pytest.mark.parametrize("before_ready", [False, True], ids=["after-ready", "before-ready"])
def test_any_base_exception_is_the_exit_error(track, monkeypatch, make_error, before_ready):
    hooked = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args))
    error = make_error()

    def runner(signals, ready):
        if not before_ready:
            ready()
        raise error

    p = track(ifrit.background(runner))
    kind, value = outcome(p.wait, timeout=DEADLINE)
    assert kind == "ok", f"wait() raised {value!r} instead of returning the exit error"
    assert value is error
    assert p.is_exited
    assert p.wait_ready(timeout=DEADLINE) is (not before_ready)
    kind, again = outcome(p.wait, timeout=0)
    assert kind == "ok" and again is error
    assert hooked == []


def test_system_exit_in_runner_does_not_end_program():
    # if SystemExit escaped the runner thread, this test (and pytest) would not continue
    def runner(signals, ready):
        raise SystemExit(0)

    p = ifrit.background(runner)
    kind, value = outcome(p.wait, timeout=DEADLINE)
    assert kind == "ok" and isinstance(value, SystemExit)


# ------------------------------------------------------------------ wait


def test_wait_from_50_threads_returns_same_object(track):
    go = threading.Event()
    raised = []

    def runner(signals, ready):
        ready()
        assert go.wait(DEADLINE)
        err = RuntimeError("shared")
        raised.append(err)
        raise err

    p = track(ifrit.background(runner))
    barrier = threading.Barrier(51, timeout=DEADLINE)
    results = [None] * 50

    def waiter(i):
        barrier.wait()
        results[i] = outcome(p.wait, timeout=DEADLINE)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    barrier.wait()
    go.set()
    for t in threads:
        t.join(DEADLINE + 5)
    assert not any(t.is_alive() for t in threads)
    assert raised
    assert all(kind == "ok" for kind, _ in results), results
    assert all(value is raised[0] for _, value in results)
    for _ in range(3):
        assert p.wait(timeout=DEADLINE) is raised[0]
        assert p.wait() is raised[0]


def test_wait_timeout_raises_builtin_timeout_error(track):
    p = track(ifrit.background(until_signal))
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        p.wait(timeout=0.05)
    assert time.monotonic() - start >= 0.04
    with pytest.raises(TimeoutError):
        p.wait(timeout=0)
    assert not p.is_exited
    p.signal()
    assert p.wait(timeout=DEADLINE) is None
    assert p.wait(timeout=0) is None


def test_wait_ready_true_false_and_timeout(track):
    go = threading.Event()

    def late(signals, ready):
        assert go.wait(DEADLINE)
        ready()
        signals.get(timeout=DEADLINE)

    p = track(ifrit.background(late))
    assert not p.is_ready
    with pytest.raises(TimeoutError):
        p.wait_ready(timeout=0.05)
    go.set()
    assert p.wait_ready(timeout=DEADLINE) is True
    assert p.wait_ready(timeout=0) is True
    p.signal()
    p.wait(timeout=DEADLINE)
    assert p.wait_ready(timeout=DEADLINE) is True  # was ready, then exited

    q = track(ifrit.background(never_ready))
    q.signal()
    assert q.wait_ready(timeout=DEADLINE) is False
    assert q.wait_ready() is False


def test_wait_ready_wakes_when_exiting_without_ready(track):
    go = threading.Event()

    def runner(signals, ready):
        assert go.wait(DEADLINE)

    p = track(ifrit.background(runner))
    result = []
    t = threading.Thread(target=lambda: result.append(outcome(p.wait_ready, timeout=DEADLINE)))
    t.start()
    go.set()
    t.join(DEADLINE + 5)
    assert result == [("ok", False)]


def test_is_ready_is_exited_transitions(track):
    ready_go = threading.Event()
    exit_go = threading.Event()

    def runner(signals, ready):
        assert ready_go.wait(DEADLINE)
        ready()
        assert exit_go.wait(DEADLINE)

    p = track(ifrit.background(runner))
    assert (p.is_ready, p.is_exited) == (False, False)
    ready_go.set()
    assert p.wait_ready(timeout=DEADLINE)
    assert (p.is_ready, p.is_exited) == (True, False)
    exit_go.set()
    assert p.wait(timeout=DEADLINE) is None
    assert p.is_exited is True


def test_repr_has_name_state_and_error(track):
    ready_go = threading.Event()
    exit_go = threading.Event()

    def runner(signals, ready):
        assert ready_go.wait(DEADLINE)
        ready()
        assert exit_go.wait(DEADLINE)
        raise ValueError("repr-boom-7731")

    p = track(ifrit.background(runner, name="repr-proc-xyz"))
    r_running = repr(p)
    ready_go.set()
    p.wait_ready(timeout=DEADLINE)
    r_ready = repr(p)
    exit_go.set()
    p.wait(timeout=DEADLINE)
    r_exited = repr(p)
    for r in (r_running, r_ready, r_exited):
        assert "repr-proc-xyz" in r
    assert len({r_running, r_ready, r_exited}) == 3, (r_running, r_ready, r_exited)
    assert "ready" in r_ready.lower()
    assert "exit" in r_exited.lower()
    assert "repr-boom-7731" in r_exited
    assert "ValueError" in r_exited

    clean = track(ifrit.background(lambda s, r: None, name="clean-proc"))
    clean.wait(timeout=DEADLINE)
    assert "clean-proc" in repr(clean) and "exit" in repr(clean).lower()


# ------------------------------------------------------------------ background


def test_background_returns_at_once(track):
    go = threading.Event()
    entered = threading.Event()

    def runner(signals, ready):
        entered.set()
        assert go.wait(DEADLINE)
        ready()
        signals.get(timeout=DEADLINE)

    start = time.monotonic()
    p = track(ifrit.background(runner))
    assert time.monotonic() - start < 1.0
    assert not p.is_ready and not p.is_exited
    assert entered.wait(DEADLINE)
    go.set()
    assert p.wait_ready(timeout=DEADLINE)
    p.signal()
    assert p.wait(timeout=DEADLINE) is None


def test_process_usable_from_other_threads(track):
    p = track(ifrit.background(until_signal))
    out = []

    def other():
        out.append(p.wait_ready(timeout=DEADLINE))
        p.signal(signal.SIGTERM)
        out.append(p.wait(timeout=DEADLINE))
        out.append((p.is_ready, p.is_exited, p.name))

    t = threading.Thread(target=other)
    t.start()
    t.join(DEADLINE + 5)
    assert out[:2] == [True, None]
    assert out[2][1] is True


# ------------------------------------------------------------------ await


def _run_async(coro_fn):
    kind, value = outcome(asyncio.run, coro_fn())
    assert kind == "ok", f"asyncio.run raised {value!r}"
    return value


def test_await_process_keeps_loop_running():
    go = threading.Event()
    error = ValueError("async-boom")

    def runner(signals, ready):
        ready()
        if not go.wait(5):
            raise RuntimeError("the event loop was blocked by await process")
        raise error

    async def main():
        p = ifrit.background(runner)
        ticks = 0

        async def ticker():
            nonlocal ticks
            for _ in range(5):
                await asyncio.sleep(0.001)
                ticks += 1
            go.set()

        task = asyncio.create_task(ticker())
        result = await p
        await task
        return p, result, ticks

    p, result, ticks = _run_async(main)
    assert result is error
    assert result is p.wait(timeout=DEADLINE)
    assert ticks == 5


def test_await_exited_process_and_many_awaiters():
    def clean(signals, ready):
        pass

    error = KeyboardInterrupt()

    def interrupted(signals, ready):
        raise error

    p_clean = ifrit.background(clean)
    p_err = ifrit.background(interrupted)
    assert p_clean.wait(timeout=DEADLINE) is None
    assert outcome(p_err.wait, timeout=DEADLINE) == ("ok", error)

    async def main():
        async def aw(p):
            try:
                return ("ok", await p)
            except BaseException as e:  # noqa: BLE001
                return ("raised", e)

        return await asyncio.wait_for(
            asyncio.gather(aw(p_clean), aw(p_err), aw(p_err), aw(p_err)), timeout=DEADLINE
        )

    results = _run_async(main)
    assert results[0] == ("ok", None)
    for kind, value in results[1:]:
        assert kind == "ok", f"await raised {value!r} instead of returning it"
        assert value is error


def test_await_pending_process_with_base_exception_exit():
    go = threading.Event()
    error = SystemExit(7)

    def runner(signals, ready):
        assert go.wait(5)
        raise error

    async def main():
        p = ifrit.background(runner)
        asyncio.get_running_loop().call_soon(go.set)
        try:
            return ("ok", await p)
        except BaseException as e:  # noqa: BLE001
            return ("raised", e)

    kind, value = _run_async(main)
    assert kind == "ok" and value is error


# ------------------------------------------------------------------ prewake hint


def test_prewake_is_only_a_hint(track):
    """``_prewake`` (used by ordered groups) wakes a runner parked in
    ``signals.get`` without delivering anything: the runner keeps waiting
    and gets exactly the signals sent afterwards, in order."""
    got = []
    waiting = threading.Event()

    def runner(signals, ready):
        ready()
        waiting.set()
        got.append(signals.get(timeout=DEADLINE))
        got.append(signals.get(timeout=DEADLINE))

    p = track(ifrit.background(runner))
    assert waiting.wait(DEADLINE)
    for _ in range(20):
        p._prewake()
    assert not p.is_exited and got == []
    p.signal(signal.SIGHUP)
    p._prewake()
    p.signal(signal.SIGTERM)
    assert p.wait(timeout=DEADLINE) is None
    assert got == [signal.SIGHUP, signal.SIGTERM]
    p._prewake()  # after exit: nothing to wake, no error


def test_signal_all_signals_unmasked_processes_in_order(track):
    """``_core._signal_all`` (a Parallel group's shutdown) signals every
    process whose ``skip`` byte is 0, and checks its arguments."""
    from ifrit import _core

    got: dict[int, list[object]] = {i: [] for i in range(5)}

    def runner_for(i):
        def runner(signals, ready):
            ready()
            got[i].append(signals.get(timeout=DEADLINE))

        return runner

    procs = [track(ifrit.background(runner_for(i))) for i in range(5)]
    assert all(p.wait_ready(timeout=DEADLINE) for p in procs)
    skip = bytearray([0, 1, 0, 1, 0])
    _core._signal_all(procs, skip, signal.SIGUSR1)
    for i in (0, 2, 4):
        assert procs[i].wait(timeout=DEADLINE) is None
        assert got[i] == [signal.SIGUSR1]
    assert not procs[1].is_exited and not procs[3].is_exited
    _core._signal_all(procs, None, signal.SIGTERM)  # exited ones: dropped
    assert procs[1].wait(timeout=DEADLINE) is None and got[1] == [signal.SIGTERM]
    assert procs[3].wait(timeout=DEADLINE) is None and got[3] == [signal.SIGTERM]
    with pytest.raises(TypeError):
        _core._signal_all(procs, None, "SIGTERM")
    with pytest.raises(ValueError):
        _core._signal_all(procs, bytearray(2), signal.SIGTERM)
    with pytest.raises(TypeError):
        _core._signal_all([object()], None, signal.SIGTERM)
    _core._signal_all([], None, signal.SIGTERM)


def test_start_all_starts_prepared_processes_in_order_until_a_signal(track):
    """``_core._start_all`` (a Parallel group's start) starts prepared
    processes from C; a signal pending in ``stop_if`` stops it before the
    next start; unprepared processes are refused before anything starts."""
    import contextvars

    from ifrit import _core
    from ifrit._process import Process

    order: list[int] = []
    lock = threading.Lock()

    def runner_for(i):
        def runner(signals, ready):
            with lock:
                order.append(i)
            ready()
            signals.get(timeout=DEADLINE)

        return runner

    def prepared(k, start=0):
        ps = [Process(f"sa{i}", _core._MAKE) for i in range(start, start + k)]
        for j, p in enumerate(ps):
            p._prepare(runner_for(start + j), contextvars.copy_context())
        return ps

    box = ifrit.Mailbox()
    ps = prepared(5)
    assert _core._start_all(ps, box.signals()) == (5, None)
    for p in ps:
        track(p)
        assert p.wait_ready(timeout=DEADLINE)
    assert sorted(order) == [0, 1, 2, 3, 4]

    box.put(signal.SIGTERM)  # pending: nothing more starts
    more = prepared(3, 5)
    assert _core._start_all(more, box.signals()) == (0, None)
    assert not any(p.is_ready or p.is_exited for p in more)

    with pytest.raises(RuntimeError, match="not prepared"):
        _core._start_all([Process("raw", _core._MAKE)], ifrit.Mailbox().signals())
    with pytest.raises(RuntimeError, match="already started"):
        _core._start_all(ps[:1], ifrit.Mailbox().signals())
    for p in ps:
        p.signal(signal.SIGTERM)
        assert p.wait(timeout=DEADLINE) is None
