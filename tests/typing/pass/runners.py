"""Runners as functions and classes; invoke/background; select; Event; Mailbox[int]."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import assert_type

import ifrit


def worker(signals: ifrit.Signals, ready: Callable[[], None]) -> None:
    ready()
    sig = signals.get(timeout=5.0)
    assert_type(sig, signal.Signals | int)


class Server:
    name = "server"

    def run(self, signals: ifrit.Signals, ready: Callable[[], None]) -> None:
        ready()
        for sig in signals:
            if sig == signal.SIGTERM:
                return


def as_runner(r: ifrit.Runner) -> ifrit.Runner:
    return r


as_runner(Server())
as_runner(ifrit.RunFunc(worker))

p = ifrit.invoke(worker, name="worker", timeout=1.0)
assert_type(p, ifrit.Process)
q = ifrit.background(Server())
q.signal(signal.SIGINT)
q.signal(15)
q.signal()
assert_type(p.wait(), BaseException | None)
assert_type(p.wait_ready(0.5), bool)
assert_type(p.is_ready, bool)
assert_type(p.is_exited, bool)
assert_type(p.name, str)

try:
    ifrit.invoke(worker)
except ifrit.StartTimeout as exc:
    assert_type(exc.process, ifrit.Process)
except ifrit.StartError as exc:
    assert_type(exc.error, BaseException | None)

box: ifrit.Mailbox[int] = ifrit.Mailbox()
box.put(1)
assert_type(box.get(timeout=1), int)
assert_type(box.poll(), int | None)
assert_type(len(box), int)
for item in box:
    assert_type(item, int)
box.close()

done = ifrit.Event()
done.set()
index, value = ifrit.select(p.exit_event, q.ready_event, done, box, timeout=1.0)
assert_type(index, int)
if value is ifrit.CLOSED:
    pass

try:
    box.get()
except ifrit.Closed:
    pass


async def main() -> None:
    err = await ifrit.background(worker)
    assert_type(err, BaseException | None)


asyncio.run(main())
exit_code: int = ifrit.run(worker, signals=(signal.SIGTERM,))
print(ifrit.__version__.upper())
