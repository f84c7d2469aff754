"""The test helpers a user's test suite would use."""

from __future__ import annotations

import signal
from typing import assert_type

import ifrit
from ifrit import testing


def test_service() -> None:
    fake = testing.FakeRunner()
    p = testing.invoke(fake, timeout=1.0)
    sigs = fake.wait_for_call(timeout=1.0)
    assert_type(sigs, ifrit.Signals)
    fake.trigger_ready()
    fake.trigger_exit(RuntimeError("boom"))
    fake.ensure_exit()
    assert_type(fake.call_count, int)
    assert_type(testing.interrupt(p), BaseException | None)
    assert_type(testing.kill(p, timeout=2.0), BaseException | None)

    rec = testing.SignalRecorder(signal.SIGUSR1, name="rec")
    q = testing.invoke(rec)
    q.signal(signal.SIGUSR1)
    q.wait(1.0)
    assert_type(rec.received, list[signal.Signals | int])
