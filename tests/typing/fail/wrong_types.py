"""Each line marked `# E: <code>` must be reported by mypy with that error code (and nothing else)."""

from __future__ import annotations

import signal

import ifrit
from ifrit import grouper, restart, testing


def worker(signals: ifrit.Signals, ready: object) -> None:
    signals.get()


p = ifrit.background(testing.FakeRunner())
p.signal("SIGTERM")  # E: arg-type
box: ifrit.Mailbox[int] = ifrit.Mailbox()
box.put("one")  # E: arg-type
text: str = box.get()  # E: assignment
ifrit.invoke(42)  # E: arg-type
ifrit.invoke(testing.FakeRunner(), timeout="5s")  # E: arg-type
grouper.Parallel({"a": testing.FakeRunner()}, termination_signal="SIGINT")  # E: arg-type
restart.Backoff(testing.FakeRunner(), initial="fast")  # E: arg-type
testing.SignalRecorder("SIGHUP")  # E: arg-type
ready: bool = p.wait()  # E: assignment
ifrit.select(box, timeout=signal.SIGINT, extra=1)  # E: call-arg
