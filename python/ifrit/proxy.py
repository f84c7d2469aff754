"""Forward a second signal source to a runner (Go's ``ifrit/proxy``).

``Proxy(source, runner)`` runs ``runner`` and forwards to it the signals of
both its own mailbox and ``source`` (an :class:`ifrit.Signals`, e.g.
``mailbox.signals()``). Fixes to Go's ``proxy.New``:

- signals are forwarded from the start, not only once ``runner`` is ready;
- it exits with ``runner``'s exit error also when that comes before ready
  (Go blocked forever on ``<-process.Ready()``);
- a closed ``source`` is no longer read; nothing is left running after exit
  (Go leaked its two forwarding goroutines until the process exited).
"""

from ifrit._proxy import Proxy, new

__all__ = ["Proxy", "new"]
