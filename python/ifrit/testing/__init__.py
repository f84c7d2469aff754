"""Helpers for testing runners and processes (Go's ``ginkgomon`` and ``fake_runner``).

Failures raise ``AssertionError`` with a message that names the process, so
they read well under any test runner:

- :func:`invoke` starts a runner and fails unless it becomes ready in time;
- :func:`interrupt` / :func:`kill` signal a process and fail unless it exits
  in time; they return its exit error;
- :class:`FakeRunner` is a runner a test drives by hand;
- :class:`SignalRecorder` is a runner that records every signal it gets.
"""

from ifrit.testing._helpers import FakeRunner, SignalRecorder, interrupt, invoke, kill

__all__ = ["FakeRunner", "SignalRecorder", "interrupt", "invoke", "kill"]
