"""ifrit.proxy (SPEC section 4)."""

from __future__ import annotations

import signal

import pytest

import ifrit
from _support import posix_signals
from ifrit import proxy
from ifrit.testing import FakeRunner

T = 10.0


@posix_signals
def test_forwards_from_source_and_own_signals_before_ready():
    source = ifrit.Mailbox()
    fake = FakeRunner()
    p = ifrit.background(proxy.Proxy(source.signals(), fake))
    sigs = fake.wait_for_call(T)
    source.put(signal.SIGUSR1)
    assert sigs.get(timeout=T) == signal.SIGUSR1  # forwarded before ready (Go waited)
    p.signal(signal.SIGUSR2)
    assert sigs.get(timeout=T) == signal.SIGUSR2
    assert not p.is_ready
    fake.trigger_ready()
    assert p.wait_ready(T)
    source.put(signal.SIGHUP)
    assert sigs.get(timeout=T) == signal.SIGHUP
    fake.trigger_exit(None)
    assert p.wait(T) is None


def test_exit_error_before_ready():
    def bad(signals, ready):
        raise KeyError("early")

    with pytest.raises(ifrit.StartError) as info:
        ifrit.invoke(proxy.new(ifrit.Mailbox().signals(), bad), timeout=T)
    assert isinstance(info.value.error, KeyError)


def test_exit_error_after_ready():
    fake = FakeRunner()
    p = ifrit.background(proxy.Proxy(ifrit.Mailbox().signals(), fake))
    fake.wait_for_call(T)
    fake.trigger_ready()
    p.wait_ready(T)
    err = ValueError("late")
    fake.trigger_exit(err)
    assert p.wait(T) is err


@posix_signals
def test_closed_source_is_no_longer_read():
    source = ifrit.Mailbox()
    fake = FakeRunner()
    p = ifrit.background(proxy.Proxy(source.signals(), fake))
    sigs = fake.wait_for_call(T)
    fake.trigger_ready()
    p.wait_ready(T)
    source.put(signal.SIGUSR1)
    source.close()
    assert sigs.get(timeout=T) == signal.SIGUSR1
    p.signal(signal.SIGTERM)  # own signals still forwarded
    assert sigs.get(timeout=T) == signal.SIGTERM
    assert not p.is_exited
    fake.trigger_exit(None)
    assert p.wait(T) is None


@posix_signals
def test_same_proxy_runs_twice():
    source = ifrit.Mailbox()
    fake = FakeRunner()
    px = proxy.Proxy(source.signals(), fake)
    p1 = ifrit.background(px)
    s1 = fake.wait_for_call(T)
    p2 = ifrit.background(px)
    s2 = fake.wait_for_call(T)
    p1.signal(signal.SIGINT)
    p2.signal(signal.SIGUSR1)
    assert s1.get(timeout=T) == signal.SIGINT
    assert s2.get(timeout=T) == signal.SIGUSR1
    fake.ensure_exit()
    assert p1.wait(T) is None and p2.wait(T) is None
