"""Groups: static groups from dicts, tuples and Members; the dynamic group's client."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import assert_type

import ifrit
from ifrit import grouper


def worker(signals: ifrit.Signals, ready: Callable[[], None]) -> None:
    ready()
    signals.get()


parallel = grouper.Parallel({"a": worker, "b": worker})
ordered = grouper.Ordered([grouper.Member("db", worker), grouper.Member("web", worker)])
queued = grouper.QueueOrdered([("x", worker), ("y", worker)], termination_signal=None)
nested = grouper.Ordered({"inner": parallel, "tail": queued}, termination_signal=signal.SIGTERM)

p = ifrit.invoke(nested)
p.signal(signal.SIGINT)
try:
    err = p.wait()
    if err is not None:
        raise err
except* RuntimeError as eg:
    print(eg.exceptions)

try:
    ifrit.invoke(ordered).wait()
except grouper.ErrorTrace as trace:
    for event in trace.trace:
        assert_type(event, grouper.ExitEvent)
        assert_type(event.member, grouper.Member)
        assert_type(event.error, BaseException | None)

try:
    grouper.Parallel([("a", worker), ("a", worker)])
except grouper.DuplicateNamesError as dup:
    print(dup.names)

dynamic = grouper.DynamicGroup(max_capacity=4, event_buffer_size=8)
dp = ifrit.invoke(dynamic)
client = dynamic.client
assert_type(client, grouper.DynamicClient)
entrances = client.entrance_listener()
assert_type(entrances, ifrit.Mailbox[grouper.EntranceEvent])
exits = client.exit_listener()
member_process = client.insert(grouper.Member("job", worker), timeout=1.0)
assert_type(member_process, ifrit.Process)
client.insert(("job2", worker))
assert_type(client.get("job"), ifrit.Process | None)
entered = entrances.get(timeout=1.0)
assert_type(entered.process, ifrit.Process)
client.close()
client.closed.wait(1.0)
try:
    client.insert(("late", worker))
except grouper.GroupClosedError:
    pass
i, ev = ifrit.select(exits, dp.exit_event)
