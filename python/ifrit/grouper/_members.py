"""Members: a unique name bound to a runner, and members-argument parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from ifrit import Signals
from ifrit.grouper._events import DuplicateNamesError

__all__ = ["Member", "MembersArg", "check_runner", "duplicates", "to_member", "to_members"]


def check_runner(runner: object) -> str | None:
    """Why ``runner`` is not a runner, or None if it is one."""
    run = getattr(runner, "run", None)
    if (callable(run) and not isinstance(runner, type)) or callable(runner):
        return None
    return (
        "its runner must be a callable fn(signals, ready) or have a run(signals, ready) "
        f"method, not {type(runner).__name__}: {runner!r}"
    )


@dataclass(frozen=True, slots=True)
class Member:
    """A runner with a name, unique within its group.

    A ``Member`` is itself a runner (``run`` delegates to ``runner``), as in
    Go where ``Member`` embeds its ``Runner``.
    """

    name: str
    runner: Any

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(
                f"a member's name must be a str, not {type(self.name).__name__}: {self.name!r}"
            )
        why = check_runner(self.runner)
        if why is not None:
            raise TypeError(f"member {self.name!r}: {why}")

    def run(self, signals: Signals, ready: Callable[[], None]) -> object:
        run = getattr(self.runner, "run", None)
        if callable(run) and not isinstance(self.runner, type):
            return run(signals, ready)
        return self.runner(signals, ready)


#: What a group accepts as its members.
MembersArg = Union[Iterable[Member], Iterable[tuple[str, Any]], Mapping[str, Any]]


def to_member(item: object, where: str) -> Member:
    """``item`` (a Member or a ``(name, runner)`` pair) as a Member.

    ``where`` names the member in the TypeError raised for a bad one.
    """
    if isinstance(item, Member):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        name, runner = item
        if not isinstance(name, str):
            raise TypeError(
                f"{where}: a member's name must be a str, not {type(name).__name__}: {name!r}"
            )
        why = check_runner(runner)
        if why is not None:
            raise TypeError(f"{where} ({name!r}): {why}")
        return Member(name, runner)
    raise TypeError(
        f"{where}: expected a grouper.Member or a (name, runner) tuple, "
        f"not {type(item).__name__}: {item!r}"
    )


def duplicates(names: Iterable[str]) -> list[str]:
    """Each name that appears more than once, once, in order of first repetition."""
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for name in names:
        if name in seen:
            dups[name] = None
        else:
            seen.add(name)
    return list(dups)


def to_members(members: MembersArg) -> tuple[Member, ...]:
    """Validate a members argument: a list of Member, of ``(name, runner)``
    pairs, or a dict ``{name: runner}``.

    Raises TypeError naming the bad member (index and name), and
    :class:`DuplicateNamesError` for repeated names.
    """
    if isinstance(members, (str, bytes)):
        raise TypeError("members must be a list of Member, a list of (name, runner) or a dict")
    if isinstance(members, Mapping):
        items: Iterable[object] = members.items()
    else:
        try:
            items = iter(members)
        except TypeError:
            raise TypeError(
                "members must be a list of Member, a list of (name, runner) or a dict, "
                f"not {type(members).__name__}"
            ) from None
    result = tuple(to_member(item, f"member {i}") for i, item in enumerate(items))
    dups = duplicates(m.name for m in result)
    if dups:
        raise DuplicateNamesError(dups)
    return result
