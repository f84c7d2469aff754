"""A runner with the wrong shape is not an ifrit.Runner."""

from __future__ import annotations

import ifrit


class NoRun:
    def start(self) -> None: ...


def takes_one(signals: ifrit.Signals) -> None: ...


runner: ifrit.Runner = NoRun()  # E: assignment
ifrit.background(takes_one)  # E: arg-type
