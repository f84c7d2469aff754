"""SPEC §2: members, validation, ErrorTrace, events, exported names."""

from __future__ import annotations

import dataclasses
import pickle
import signal

import pytest

import ifrit
from ifrit import grouper
from ifrit.grouper import (
    DuplicateNamesError,
    EntranceEvent,
    ErrorTrace,
    ExitEvent,
    Member,
)

from _gsupport import until_signal

GROUPS = [grouper.Parallel, grouper.Ordered, grouper.QueueOrdered]


def test_public_names():
    assert sorted(grouper.__all__) == sorted(
        [
            "Member",
            "Parallel",
            "Ordered",
            "QueueOrdered",
            "DynamicGroup",
            "DynamicClient",
            "DuplicateNamesError",
            "GroupClosedError",
            "ErrorTrace",
            "ExitEvent",
            "EntranceEvent",
        ]
    )
    for name in grouper.__all__:
        assert getattr(grouper, name).__module__.startswith("ifrit.grouper")


class RunnerObject:
    def run(self, signals, ready):
        until_signal(signals, ready)


@pytest.mark.parametrize("group", GROUPS)
def test_members_forms_are_equivalent(group):
    obj = RunnerObject()
    as_members = group([Member("a", until_signal), Member("b", obj)])
    as_tuples = group([("a", until_signal), ("b", obj)])
    as_dict = group({"a": until_signal, "b": obj})
    assert as_members.members == as_tuples.members == as_dict.members
    assert [m.name for m in as_dict.members] == ["a", "b"]
    assert as_dict.termination_signal == signal.SIGINT
    assert group({}, termination_signal=None).termination_signal is None
    # a generator of members works too
    assert group(Member(n, obj) for n in "xyz").members[2].name == "z"


@pytest.mark.parametrize("group", GROUPS)
def test_duplicate_names_at_construction(group):
    members = [(n, until_signal) for n in ["a", "b", "a", "c", "b", "a", "d", "c"]]
    with pytest.raises(DuplicateNamesError) as info:
        group(members)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.names == ["a", "b", "c"]
    for name in ("a", "b", "c"):
        assert repr(name) in str(err)
    assert "'d'" not in str(err)


def test_duplicate_names_error_single_and_pickle():
    err = DuplicateNamesError(["x"])
    assert err.names == ["x"] and "'x'" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert again.names == ["x"] and str(again) == str(err)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize(
    ("members", "pattern"),
    [
        ([("a", until_signal), (3, until_signal)], r"member 1\b.*name must be a str"),
        ([("a", until_signal), ("b", 42)], r"member 1 \('b'\).*runner"),
        ([("a", until_signal), "nope"], r"member 1\b.*Member or a \(name, runner\)"),
        ([("a", until_signal, "extra")], r"member 0\b"),
        ({"a": until_signal, "b": None}, r"member 1 \('b'\)"),
        ({5: until_signal}, r"member 0\b.*name must be a str"),
        (42, r"members must be"),
        ("ab", r"members must be"),
    ],
)
def test_bad_members_type_error(group, members, pattern):
    with pytest.raises(TypeError, match=pattern):
        group(members)


def test_member_validates_and_is_a_runner():
    with pytest.raises(TypeError, match="name must be a str"):
        Member(1, until_signal)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'m'.*runner"):
        Member("m", object())
    m = Member("m", RunnerObject())
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "n"  # type: ignore[misc]
    p = ifrit.invoke(m, timeout=10)
    assert p.name == "m"  # a Member runs under its name
    p.signal()
    assert p.wait(10) is None


@pytest.mark.parametrize("group", GROUPS)
def test_bad_termination_signal(group):
    with pytest.raises(TypeError):
        group([], termination_signal="SIGINT")
    with pytest.raises(TypeError):
        group([], termination_signal=True)


def test_events_are_frozen_dataclasses():
    m = Member("m", until_signal)
    e = ExitEvent(m, None)
    assert dataclasses.is_dataclass(e) and e.member is m and e.error is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.error = ValueError()  # type: ignore[misc]
    assert ExitEvent(member=m, error=None) == e
    p = ifrit.invoke(until_signal, timeout=10)
    try:
        en = EntranceEvent(m, p)
        assert en.process is p and en.member is m
        with pytest.raises(dataclasses.FrozenInstanceError):
            en.process = None  # type: ignore[misc]
    finally:
        p.signal()
        p.wait(10)


def _trace():
    a, b, c, d = (Member(n, until_signal) for n in "abcd")
    boom = ValueError("boom")
    kbd = KeyboardInterrupt()
    other = OSError("disk")
    return [ExitEvent(a, boom), ExitEvent(b, None), ExitEvent(c, kbd), ExitEvent(d, other)], boom, kbd, other


def test_error_trace_contents_and_str():
    trace, boom, kbd, other = _trace()
    err = ErrorTrace(trace)
    assert isinstance(err, ExceptionGroup) and isinstance(err, Exception)
    assert err.trace == trace
    assert str(err) == (
        "Exit trace for group:\n"
        "a exited with error: boom\n"
        "b exited with nil\n"
        "c exited with error: \n"
        "d exited with error: disk"
    )
    assert err.exceptions[0] is boom and err.exceptions[2] is other
    wrapped = err.exceptions[1]
    assert type(wrapped) is RuntimeError and wrapped.__cause__ is kbd
    assert "'c'" in str(wrapped)
    assert err.trace[2].error is kbd  # .trace keeps the original
    assert str(err).startswith("Exit trace for group:")


def test_error_trace_needs_an_error():
    with pytest.raises(ValueError):
        ErrorTrace([ExitEvent(Member("a", until_signal), None)])
    with pytest.raises(TypeError):
        ErrorTrace(["nope"])  # type: ignore[list-item]


def test_error_trace_except_star():
    trace, boom, kbd, other = _trace()
    caught = {}
    try:
        raise ErrorTrace(trace)
    except* ValueError as eg:
        caught["value"] = eg
    except* RuntimeError as eg:
        caught["runtime"] = eg
    except* OSError as eg:
        caught["os"] = eg
    assert isinstance(caught["value"], ErrorTrace)
    assert caught["value"].exceptions == (boom,)
    assert [e.member.name for e in caught["value"].trace] == ["a"]
    assert str(caught["value"]) == "Exit trace for group:\na exited with error: boom"
    assert caught["runtime"].trace[0].error is kbd
    assert caught["os"].exceptions == (other,)
    match, rest = ErrorTrace(trace).split(ValueError)
    assert isinstance(match, ErrorTrace) and isinstance(rest, ErrorTrace)
    assert [e.member.name for e in rest.trace] == ["c", "d"]
    # everything matches: the group itself
    whole = ErrorTrace(trace)
    assert whole.subgroup(Exception) is whole


def test_error_trace_pickles():
    a = Member("a", "not-used-by-pickle" and until_signal)
    err = ErrorTrace([ExitEvent(a, ValueError("x"))])
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and isinstance(again, ErrorTrace)
