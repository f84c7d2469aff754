"""Shared fixtures for the pyifrit test suite."""

from __future__ import annotations

import contextvars
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from _support import Child, run_python  # noqa: E402


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Make SIGINT raise KeyboardInterrupt for the test (pytest may run with SIG_IGN
    inherited), then restore the previous handler."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(
            signal.SIGINT, previous if previous is not None else signal.default_int_handler
        )


@pytest.fixture
def track() -> Iterator[Callable[[Any], Any]]:
    """``p = track(ifrit.background(...))``: at teardown, still-running processes get
    SIGTERM, then SIGKILL, and the test errors if any survives 5 s."""
    procs: list[Any] = []

    def _track(process: Any) -> Any:
        procs.append(process)
        return process

    yield _track
    survivors = []
    for p in procs:
        if not p.is_exited:
            p.signal(signal.SIGTERM)
            p.signal(getattr(signal, "SIGKILL", 9))
    for p in procs:
        try:
            p.wait(timeout=5)
        except TimeoutError:
            survivors.append(p)
    if survivors:
        pytest.fail(f"processes still running after the test: {survivors!r}")


@pytest.fixture
def fresh_context() -> contextvars.Context:
    """A fresh copy of the current context, to run a test body in isolation."""
    return contextvars.copy_context()


@pytest.fixture
def python_child() -> Callable[..., Any]:
    return run_python


@pytest.fixture
def interactive_child() -> Iterator[Callable[..., Child]]:
    children: list[Child] = []

    def _start(code: str, env: dict[str, str] | None = None) -> Child:
        child = Child(code, env=env)
        children.append(child)
        return child

    yield _start
    for child in children:
        child.__exit__(None, None, None)

