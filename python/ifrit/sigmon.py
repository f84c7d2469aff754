"""OS signals for a runner (Go's ``ifrit/sigmon``).

``Sigmon(runner, *signals)`` is a runner that subscribes to the OS signals
``signals`` + SIGINT + SIGTERM (through the C core's sigbridge, so it works
from any thread, not only the main one), *then* starts ``runner``, and
forwards to it every OS signal delivered to this OS process as well as every
signal sent to the Sigmon itself. It is ready when ``runner`` is ready, exits
with ``runner``'s exit error once it has exited, and on exit restores the
previous OS handlers exactly (Python's own SIGINT handler included, so Ctrl-C
raises ``KeyboardInterrupt`` again afterwards).

While a Sigmon runs, the signals it watches no longer reach Python's
``signal`` module handlers: SIGINT, for instance, is forwarded instead of
raising ``KeyboardInterrupt``. Several Sigmons may run at once; each sees
every delivery.
"""

from ifrit._sigmon import Sigmon, new

__all__ = ["Sigmon", "new"]
