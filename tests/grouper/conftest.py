"""Fixtures for the grouper tests.

Core workaround (remove once fixed): in ``_core.pyx``, ``_on_thread_exit``
calls ``PyGILState_Release`` a second time after the first one has already
released the GIL, so any pool thread that exits (more than ``max_idle`` idle
threads, the idle timeout, ``pool_trim``) aborts the interpreter with
"PyGILState_Release: thread state ... must be current when releasing".
Groups finish many members at once, so these tests keep every pool thread.
"""

from __future__ import annotations

from ifrit import _core

_core.set_pool(max_idle=1_000_000, idle_timeout=24 * 3600.0)
